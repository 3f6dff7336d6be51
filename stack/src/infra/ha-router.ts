import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePackage } from './os-packages.ts';
import {
  assertPortFree,
  isPortOpen,
  managed,
  runningPid,
  startDetached,
  stopProcess,
  waitUntil,
} from './processes.ts';
import type { InfraSettings } from './settings.ts';

const HAPROXY = '/usr/sbin/haproxy';

export function routerProcess(s: InfraSettings) {
  return managed(s.stateDir, 'ha-router');
}

/**
 * HAProxy in TCP mode on the ports the clients already use (PG_PORT, REDIS_PORT), forwarding to whichever node
 * is the primary now, so no client needs to know there is a cluster. PostgreSQL's primary is the node whose
 * Patroni answers 200 on /primary; Redis's master is the node that says `role:master`. A node that stops being
 * the primary is marked down after two failed one-second checks, and its sessions are cut then, so no client
 * goes on writing to a demoted or half-dead server.
 */
export function haRouterConfig(s: InfraSettings): string {
  const lines = [
    'global',
    '  maxconn 9000',
    '',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout client 1h',
    '  timeout server 1h',
    '  timeout check 2s',
    '  default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions',
  ];
  const pg = s.postgres.cluster;
  if (pg !== undefined) {
    lines.push(
      '',
      'listen postgres',
      `  bind 127.0.0.1:${s.postgres.port}`,
      '  option httpchk',
      // OPTIONS: the status alone, without a body that the check would cut off.
      '  http-check send meth OPTIONS uri /primary',
      '  http-check expect status 200',
      ...pg.nodes.map((n) => `  server ${n.name} 127.0.0.1:${n.port} check port ${n.restPort}`),
    );
  }
  const redis = s.redis.sentinel;
  if (redis !== undefined) {
    lines.push(
      '',
      'listen redis',
      `  bind 127.0.0.1:${s.redis.port}`,
      '  option tcp-check',
      '  tcp-check connect',
      '  tcp-check send PING\\r\\n',
      '  tcp-check expect string +PONG',
      '  tcp-check send info\\ replication\\r\\n',
      '  tcp-check expect string role:master',
      '  tcp-check send QUIT\\r\\n',
      '  tcp-check expect string +OK',
      ...redis.nodePorts.map((port, i) => `  server redis${i + 1} 127.0.0.1:${port} check`),
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function startRouter(s: InfraSettings, log: (m: string) => void): Promise<void> {
  const proc = routerProcess(s);
  const dir = join(s.stateDir, 'ha-router');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'haproxy.cfg');
  const wanted = haRouterConfig(s);
  if (runningPid(proc) !== undefined) {
    if (existsSync(config) && readFileSync(config, 'utf8') === wanted) return;
    log('restarting the router with the clusters asked for now');
    await stopProcess(proc);
  }
  ensurePackage([HAPROXY, 'haproxy'], ['haproxy'], log);
  for (const [port, variable] of [
    ...(s.postgres.cluster === undefined ? [] : [[s.postgres.port, 'PG_PORT'] as const]),
    ...(s.redis.sentinel === undefined ? [] : [[s.redis.port, 'REDIS_PORT'] as const]),
  ])
    await assertPortFree(proc, port, variable);
  writeFileSync(config, wanted);
  startDetached(proc, existsSync(HAPROXY) ? HAPROXY : 'haproxy', ['-db', '-f', config]);
  const port = s.postgres.cluster === undefined ? s.redis.port : s.postgres.port;
  await waitUntil(proc, `listening on ${port}`, () => isPortOpen(port), 10_000);
}

export function stopRouter(s: InfraSettings) {
  return stopProcess(routerProcess(s));
}
