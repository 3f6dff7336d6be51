// npm run loadtest:k6 [-- <script.js> [k6 run options]] — builds k6 if needed, brings the stack up as the
// scenario runner does, and runs the script (loadgen/k6/flash-sale.js by default) against it. k6's thresholds
// decide the exit code.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ensureStack } from '../../loadgen/src/stack.ts';
import { defaultTargets } from '../../loadgen/src/targets.ts';
import { buildK6 } from './build.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const [script = join(ROOT, 'loadgen', 'k6', 'flash-sale.js'), ...k6Args] = process.argv.slice(2);
const log = (m: string) => console.log(`loadtest:k6: ${m}`);

try {
  const k6 = buildK6(log);
  const targets = defaultTargets(process.env);
  const stack = await ensureStack(targets, {
    payment: { failureRate: 0.1, timeoutRate: 0, latencyMs: { min: 50, max: 300 } },
    logDir: join(ROOT, 'reports', `k6-logs-${Date.now()}`),
    log,
    proxied: false,
    mustOwn: [],
  });
  const run = spawnSync(k6, ['run', '--no-usage-report', ...k6Args, script], {
    stdio: 'inherit',
    env: {
      ...process.env,
      ACCOUNT_URL: targets.account,
      TICKET_URL: targets.ticket,
      ADMIN_EMAIL: targets.adminEmail,
      ADMIN_PASSWORD: targets.adminPassword,
    },
  });
  await stack.stop();
  process.exit(run.status ?? 1);
} catch (error) {
  console.error(`loadtest:k6 failed: ${(error as Error).message}`);
  process.exit(1);
}
