// npm run dev [-- --replicas ticket=3,payment=2]: brings the infrastructure up if needed, then runs every service
// (and the simulated payment provider) on its port, replicated services behind HAProxy, as the scenario runner
// does, and serves the fan page and control room (web/) on WEB_URL. Logs go to reports/dev-logs/. Ctrl-C stops
// them all gracefully.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultTargets, ensureStack, parseReplicas } from '@reservex/stack';

const { values } = parseArgs({ args: process.argv.slice(2), options: { replicas: { type: 'string' } } });
const replicas = parseReplicas(values.replicas ?? process.env.RESERVEX_REPLICAS);
const targets = defaultTargets(process.env);
const logDir = join(resolve(import.meta.dirname, '..'), 'reports', 'dev-logs');
const stack = await ensureStack(targets, {
  logDir,
  log: (m) => console.log(`dev: ${m}`),
  proxied: false,
  mustOwn: [],
  replicas,
});
for (const [name, url] of [
  ['account-service', targets.account],
  ['ticket-service', targets.ticket],
  ['payment-service', targets.payment],
  ['payment-provider', targets.provider],
] as const) {
  const n = replicas[name as keyof typeof replicas] ?? 1;
  console.log(
    `dev: ${name.padEnd(17)} ${url}  (API reference: ${url}/docs${n > 1 ? `; ${n} replicas behind HAProxy` : ''})`,
  );
}
console.log(`dev: logs in ${logDir}; Ctrl-C stops everything`);
console.log('');
console.log(
  stack.webUrl === undefined ? 'dev: the web page did not start (see above)' : `  Open ${stack.webUrl}`,
);
console.log(
  stack.webUrl === undefined
    ? ''
    : `  (fans book there; the control room is ${stack.webUrl}#/control, for ${targets.adminEmail}${
        // Only the development default is shown: a password someone chose stays off the screen.
        targets.adminPassword === 'reservex-admin' ? ' with the development password reservex-admin' : ''
      })`,
);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
// Keeps the process alive until a signal comes.
setInterval(() => {}, 1 << 30);
