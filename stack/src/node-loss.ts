import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { clusterSuperuser } from './infra/patroni-rest.ts';
import type { InfraSettings } from './infra/settings.ts';

/** Which node answers a write through the router now, asked as a client would: undefined when none does. */
async function writerBehindRouter(s: InfraSettings, kind: 'postgres' | 'redis'): Promise<string | undefined> {
  if (kind === 'postgres') {
    const c = s.postgres.cluster;
    if (c === undefined) return undefined;
    const client = new pg.Client({
      ...clusterSuperuser(s),
      connectionTimeoutMillis: 1000,
      query_timeout: 2000,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      const { rows } = await client.query(
        'SELECT pg_is_in_recovery() AS standby, inet_server_port() AS port, txid_current() AS xid',
      );
      if (rows[0]?.standby !== false) return undefined;
      return c.nodes.find((n) => n.port === rows[0].port)?.name;
    } catch {
      return undefined;
    } finally {
      await client.end().catch(() => {});
    }
  }
  const r = s.redis.sentinel;
  if (r === undefined) return undefined;
  const client = new Redis({
    port: s.redis.port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
    commandTimeout: 2000,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.set('reservex:failover-probe', String(Date.now()));
    const port = Number(/tcp_port:(\d+)/.exec(await client.info('server'))?.[1]);
    const i = r.nodePorts.indexOf(port);
    return i < 0 ? undefined : `redis-node${i + 1}`;
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

/**
 * Waits until a node other than `lost` takes writes through the router, and names it; undefined if none does
 * within `timeoutMs`. A write (a transaction id, a SET) is the test, because a router that forwards to a standby
 * still accepts connections.
 */
export async function routerPrimary(
  s: InfraSettings,
  kind: 'postgres' | 'redis',
  lost: string,
  timeoutMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const writer = await writerBehindRouter(s, kind);
    if (writer !== undefined && writer !== lost) return writer;
    await sleep(200);
  }
  return undefined;
}
