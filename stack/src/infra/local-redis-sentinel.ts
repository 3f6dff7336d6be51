import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRouter } from './ha-router.ts';
import { pingRedis, withRedis } from './health.ts';
import { startRedisServer } from './local-redis.ts';
import { ensurePackage } from './os-packages.ts';
import {
  assertPortFree,
  InfraError,
  isAlive,
  managed,
  runningPid,
  startDetached,
  stopProcess,
  waitUntil,
} from './processes.ts';
import type { InfraSettings } from './settings.ts';

type Sentinel = NonNullable<InfraSettings['redis']['sentinel']>;

function sentinelOf(s: InfraSettings): Sentinel {
  if (s.redis.sentinel === undefined)
    throw new InfraError('Redis is not run with Sentinel (REDIS_SENTINEL=3)');
  return s.redis.sentinel;
}

export function redisNodeProcess(s: InfraSettings, i: number) {
  return managed(s.stateDir, `redis-node${i + 1}`);
}

function sentinelProcess(s: InfraSettings, i: number) {
  return managed(s.stateDir, `redis-sentinel${i + 1}`);
}

function nodeDataDir(s: InfraSettings, i: number) {
  return join(s.stateDir, 'data', `redis-node${i + 1}`);
}

/**
 * The master's port as the sentinels see it now; undefined before any sentinel runs or knows. A majority is not
 * asked for here: the sentinels only start a failover with a quorum of two, and this is a reading of its result.
 */
export async function sentinelMaster(s: InfraSettings): Promise<number | undefined> {
  for (const port of sentinelOf(s).sentinelPorts) {
    const addr = await withRedis(
      port,
      (sentinel) =>
        sentinel.call('SENTINEL', 'get-master-addr-by-name', sentinelOf(s).masterName) as Promise<
          [string, string] | null
        >,
    ).catch(() => null);
    if (addr !== null) return Number(addr[1]);
  }
  return undefined;
}

/** `role` of each data node as it says itself (`master`, `slave`), or `down`. */
export async function redisRoles(s: InfraSettings): Promise<Array<{ port: number; role: string }>> {
  return Promise.all(
    sentinelOf(s).nodePorts.map(async (port) => ({
      port,
      role: await withRedis(port, (node) => node.info('replication')).then(
        (info) => /role:(\w+)/.exec(info)?.[1] ?? '?',
        () => 'down',
      ),
    })),
  );
}

/**
 * Starts data node `i`. Each is as durable as the single server (append-only file, fsync always). A node that
 * starts while the sentinels know a master elsewhere starts as its replica: a node back from the dead must never
 * start as a second, empty master that the router could pick.
 */
export async function startRedisNode(s: InfraSettings, i: number): Promise<void> {
  const c = sentinelOf(s);
  const proc = redisNodeProcess(s, i);
  if (runningPid(proc) !== undefined) return;
  const port = c.nodePorts[i]!;
  await assertPortFree(proc, port, 'REDIS_PORT (its nodes listen on REDIS_PORT + 1 and + 2)');
  const known = await sentinelMaster(s);
  const master = known ?? c.nodePorts[0]!;
  await startRedisServer(
    proc,
    port,
    nodeDataDir(s, i),
    master === port ? [] : ['--replicaof', '127.0.0.1', String(master)],
  );
}

/**
 * Three sentinels, quorum two. A master silent for 2 s is down for a sentinel; with two agreeing, the replica is
 * promoted. Each sentinel rewrites its own file with what it learns, so it is written only the first time.
 */
async function startSentinel(s: InfraSettings, i: number): Promise<void> {
  const c = sentinelOf(s);
  const proc = sentinelProcess(s, i);
  if (runningPid(proc) !== undefined) return;
  const port = c.sentinelPorts[i]!;
  await assertPortFree(proc, port, 'SENTINEL_PORT');
  const dir = join(s.stateDir, 'data', `redis-sentinel${i + 1}`);
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'sentinel.conf');
  if (!existsSync(config))
    writeFileSync(
      config,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${c.masterName} 127.0.0.1 ${c.nodePorts[0]} 2`,
        `sentinel down-after-milliseconds ${c.masterName} 2000`,
        `sentinel failover-timeout ${c.masterName} 10000`,
        `sentinel parallel-syncs ${c.masterName} 1`,
        '',
      ].join('\n'),
    );
  startDetached(proc, '/usr/bin/redis-sentinel', [config]);
  await waitUntil(proc, 'PING', async () => (await pingRedis(port)) === 'PONG', 15_000);
}

export async function startRedisSentinel(s: InfraSettings, log: (m: string) => void): Promise<void> {
  const c = sentinelOf(s);
  ensurePackage(['/usr/bin/redis-server'], ['redis-server'], log);
  ensurePackage(['/usr/bin/redis-sentinel'], ['redis-sentinel'], log);
  // Sentinels first: they remember which node was the master when they stopped (their files), and each node
  // asks them before it starts, so a stopped cluster comes back with the same master.
  for (let i = 0; i < c.sentinelPorts.length; i++) await startSentinel(s, i);
  for (let i = 0; i < c.nodePorts.length; i++) await startRedisNode(s, i);
  await startRouter(s, log);
  await waitUntil(
    redisNodeProcess(s, 0),
    'a master through the router',
    async () => (await pingRedis(s.redis.port)) === 'PONG',
    20_000,
  );
  log(`Redis: ${(await redisRoles(s)).map((r) => `${r.port} ${r.role}`).join(', ')}`);
}

/** The master's node lost: its redis-server killed with SIGKILL, its files deleted with it. */
export async function loseRedisMaster(s: InfraSettings): Promise<number> {
  const c = sentinelOf(s);
  const master = (await redisRoles(s)).find((r) => r.role === 'master')?.port;
  const i = master === undefined ? -1 : c.nodePorts.indexOf(master);
  if (i < 0) throw new InfraError('no Redis node says it is the master');
  const pid = runningPid(redisNodeProcess(s, i));
  if (pid !== undefined) {
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(20);
  }
  const dataDir = nodeDataDir(s, i);
  rmSync(dataDir, { recursive: true, force: true });
  return i;
}

export async function stopRedisSentinel(s: InfraSettings): Promise<void> {
  const c = sentinelOf(s);
  for (let i = 0; i < c.sentinelPorts.length; i++) await stopProcess(sentinelProcess(s, i));
  for (let i = 0; i < c.nodePorts.length; i++) await stopProcess(redisNodeProcess(s, i));
}
