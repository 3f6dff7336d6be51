import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Scenario } from './scenario.ts';

type FaultProfile = Scenario['payment']['initial'];

import type { Targets } from './targets.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

async function healthyService(url: string, name: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/actuator/health`, { signal: AbortSignal.timeout(1500) });
    const body = (await res.json()) as { service?: string; status?: string };
    return res.ok && body.service === name && body.status === 'UP';
  } catch {
    return false;
  }
}

export interface StartedStack {
  started: string[];
  reused: string[];
  stop(): Promise<void>;
}

/**
 * Brings up what is missing: the infrastructure (npm run infra:up) and any of the three services not already
 * answering on its port. Services it starts get settings fit for a load run (cheap password hashing so thousands
 * of fans can sign up on two cores, no per-address login or queue-join limit since every fan comes from 127.0.0.1).
 */
export async function ensureStack(
  t: Targets,
  payment: FaultProfile,
  logDir: string,
  log: (m: string) => void,
): Promise<StartedStack> {
  const infra = spawnSync(process.execPath, [join(ROOT, 'scripts/infra/cli.ts'), 'up', '--quiet'], {
    stdio: 'inherit',
  });
  if (infra.status !== 0) throw new Error('the infrastructure did not come up; see .infra/logs/');
  mkdirSync(logDir, { recursive: true });
  const env = (port: string, extra: Record<string, string>) => ({
    ...process.env,
    PORT: port,
    LOG_LEVEL: 'warn',
    DATABASE_POOL_MAX: '30',
    ...extra,
  });
  const services = [
    {
      name: 'account-service',
      url: t.account,
      env: env(new URL(t.account).port, {
        PASSWORD_SCRYPT_LOG2N: '8',
        // At N=2^8 a hash takes about a millisecond: the crowd's sign-ins may queue for it freely.
        PASSWORD_HASH_QUEUE: '10000',
        // Every load-test fan signs up from 127.0.0.1.
        SIGNUP_LIMIT_PER_IP: '1000000000',
        LOGIN_LIMIT_PER_IP: '1000000000',
        LOGIN_LIMIT_PER_ACCOUNT: '1000',
        ADMIN_EMAIL: t.adminEmail,
        ADMIN_PASSWORD: t.adminPassword,
      }),
    },
    {
      name: 'ticket-service',
      url: t.ticket,
      // Every fan joins the queue from 127.0.0.1: the per-address join limit would count the whole crowd as one.
      env: env(new URL(t.ticket).port, {
        ACCOUNT_JWKS_URL: `${t.account}/.well-known/jwks.json`,
        QUEUE_JOIN_LIMIT_PER_IP: '1000000000',
      }),
    },
    {
      name: 'payment-service',
      url: t.payment,
      env: env(new URL(t.payment).port, {
        ACCOUNT_JWKS_URL: `${t.account}/.well-known/jwks.json`,
        GATEWAY_FAILURE_RATE: String(payment.failureRate),
        GATEWAY_TIMEOUT_RATE: String(payment.timeoutRate),
        GATEWAY_LATENCY_MIN_MS: String(payment.latencyMs.min),
        GATEWAY_LATENCY_MAX_MS: String(payment.latencyMs.max),
      }),
    },
  ];
  const children: ChildProcess[] = [];
  const started: string[] = [];
  const reused: string[] = [];
  for (const svc of services) {
    if (await healthyService(svc.url, svc.name)) {
      reused.push(svc.name);
      continue;
    }
    const out = openSync(join(logDir, `${svc.name}.log`), 'a');
    const child = spawn(process.execPath, [join(ROOT, 'system', svc.name, 'src', 'main.ts')], {
      env: svc.env,
      stdio: ['ignore', out, out],
    });
    children.push(child);
    started.push(svc.name);
    const deadline = Date.now() + 30_000;
    while (!(await healthyService(svc.url, svc.name))) {
      if (child.exitCode !== null)
        throw new Error(`${svc.name} exited at start; read ${join(logDir, `${svc.name}.log`)}`);
      if (Date.now() > deadline)
        throw new Error(
          `${svc.name} did not become healthy in 30 s; read ${join(logDir, `${svc.name}.log`)}`,
        );
      await sleep(200);
    }
  }
  if (reused.length > 0) log(`reusing running ${reused.join(', ')} (their own settings apply)`);
  if (started.length > 0) log(`started ${started.join(', ')}; logs in ${logDir}`);
  return {
    started,
    reused,
    async stop() {
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(
        children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)),
      );
    },
  };
}
