// npm run dev: brings the infrastructure up if needed, then runs every service that exists, each on its port,
// with its logs prefixed. Ctrl-C stops them all gracefully.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

const SERVICES = [
  { name: 'account-service', port: 8081 },
  { name: 'ticket-service', port: 8080 },
  { name: 'payment-service', port: 8082 },
] as const;

const infra = spawnSync(process.execPath, ['scripts/infra/cli.ts', 'up'], { stdio: 'inherit' });
if (infra.status !== 0) process.exit(infra.status ?? 1);

const children: ChildProcess[] = [];
for (const service of SERVICES) {
  const main = `system/${service.name}/src/main.ts`;
  if (!existsSync(main)) continue;
  const child = spawn(process.execPath, [main], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => console.log(`[${service.name}] ${line}`));
  }
  child.on('exit', (code, signal) => console.log(`[${service.name}] exited (${signal ?? code})`));
  children.push(child);
  console.log(`dev: ${service.name} on http://127.0.0.1:${service.port}`);
}

const stop = () => {
  for (const child of children) child.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
