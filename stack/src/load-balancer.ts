import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { endWithThisProcess } from './child-reaper.ts';
import { ensurePackage } from './infra/os-packages.ts';

/**
 * How long a replica behind the balancer keeps answering after SIGTERM, saying DOWN to readiness meanwhile: more
 * than the three missed one-second checks that take it out of rotation.
 */
export const REPLICA_DRAIN_DELAY_MS = 6000;

/** The most replicas one service may have: HAProxy is configured with this many slots from the start. */
export const MAX_REPLICAS = 8;

/** Where replica `i` of a service whose public port is `publicPort` listens: 18080, 18180, … for 8080. */
export function replicaPort(publicPort: number, i: number): number {
  return publicPort + 10_000 + 100 * i;
}

export interface Balanced {
  name: string;
  publicPort: number;
}

/**
 * HAProxy's configuration: one frontend per replicated service on its public port, balancing over every replica
 * slot. Slots with no replica fail their health check and get no traffic, so replicas come and go (churn)
 * without a reload. Readiness is the check, so a draining replica stops getting requests before it closes.
 * Timeouts are long enough for server-sent events, which pass through as one long response.
 */
export function haproxyConfig(services: readonly Balanced[]): string {
  const lines = [
    'global',
    // Two descriptors per proxied connection, and this machine gives a process 20,000: HAProxy refuses to start
    // if it cannot raise its limit to what maxconn implies.
    '  maxconn 9000',
    '',
    'defaults',
    '  mode http',
    '  option forwardfor',
    '  option http-keep-alive',
    '  timeout connect 2s',
    '  timeout client 1h',
    '  timeout server 1h',
    '  timeout http-keep-alive 60s',
    '  timeout queue 10s',
    // Readiness asks PostgreSQL, Redis and Kafka, and on a busy machine that can take a second or more: a check
    // may take 4 s, and three must fail in a row, or a sale at its peak would take every replica out at once.
    '  timeout check 4s',
    '  default-server inter 1s fall 3 rise 1',
    // A replica that is gone, or closed an idle connection as the request left, never saw the request: send it
    // to another. (A draining replica first says DOWN for REPLICA_DRAIN_DELAY_MS, longer than three checks.)
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response',
  ];
  for (const s of services) {
    lines.push(
      '',
      `frontend ${s.name}`,
      `  bind 127.0.0.1:${s.publicPort}`,
      `  default_backend ${s.name}-replicas`,
      '',
      `backend ${s.name}-replicas`,
      // Waiting fans each hold a stream: the replica with the fewest connections takes the next.
      '  balance leastconn',
      '  option httpchk GET /actuator/health/readiness',
      '  http-check expect status 200',
    );
    for (let i = 0; i < MAX_REPLICAS; i++) {
      lines.push(`  server ${s.name}-${i + 1} 127.0.0.1:${replicaPort(s.publicPort, i)} check`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** HAProxy from the OS packages, in the foreground, in front of the replicated services. */
export class LoadBalancer {
  #child: ChildProcess | undefined;

  async start(services: readonly Balanced[], logDir: string, log: (m: string) => void): Promise<void> {
    ensurePackage(['haproxy', '/usr/sbin/haproxy'], ['haproxy'], log);
    const config = join(logDir, 'haproxy.cfg');
    writeFileSync(config, haproxyConfig(services));
    const out = openSync(join(logDir, 'haproxy.log'), 'a');
    const binary = existsSync('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : 'haproxy';
    const child = endWithThisProcess(spawn(binary, ['-db', '-f', config], { stdio: ['ignore', out, out] }));
    this.#child = child;
    // Listening is all it needs to be "up": its backends' health is HAProxy's own business.
    for (let i = 0; i < 50; i++) {
      if (child.exitCode !== null)
        throw new Error(`haproxy exited at start; read ${join(logDir, 'haproxy.log')}`);
      await sleep(100);
      const listening = await Promise.all(services.map((s) => portOpen(s.publicPort)));
      if (listening.every(Boolean)) return;
    }
    throw new Error(`haproxy did not listen in 5 s; read ${join(logDir, 'haproxy.log')}`);
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
