import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pingRedis } from './health.ts';
import { ensurePackage } from './os-packages.ts';
import {
  assertPortFree,
  type ManagedProcess,
  managed,
  runningPid,
  startDetached,
  stopProcess,
  waitUntil,
} from './processes.ts';
import type { InfraSettings } from './settings.ts';

export function redisProcess(s: InfraSettings) {
  return managed(s.stateDir, 'redis');
}

export async function startRedis(s: InfraSettings, log: (m: string) => void): Promise<void> {
  const proc = redisProcess(s);
  if (runningPid(proc) !== undefined) return;
  ensurePackage(['redis-server', '/usr/bin/redis-server'], ['redis-server'], log);
  await assertPortFree(proc, s.redis.port, 'REDIS_PORT');
  await startRedisServer(proc, s.redis.port, join(s.stateDir, 'data', 'redis'));
}

/**
 * One redis-server, as durable in every shape (a single server, a replicated node): `extra` adds to it, such as
 * `--replicaof`. Waits until it answers PING.
 */
export async function startRedisServer(
  proc: ManagedProcess,
  port: number,
  dataDir: string,
  extra: readonly string[] = [],
): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  startDetached(proc, 'redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dataDir,
    // Durable queue places and admission log: every write is on disk before Redis answers, so even a kill -9
    // of Redis loses no admission the checker will look for (docs/resilience.md measures the cost).
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--save',
    '',
    '--maxclients',
    '60000',
    ...extra,
  ]);
  await waitUntil(proc, 'PING', async () => (await pingRedis(port)) === 'PONG', 15_000);
}

export function stopRedis(s: InfraSettings) {
  return stopProcess(redisProcess(s));
}
