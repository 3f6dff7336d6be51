import { join, resolve } from 'node:path';
import { en, Faker } from '@faker-js/faker';
import type { ServiceName } from '@reservex/stack';
import { defaultTargets, ensureStack, replicaPort, type Targets } from '@reservex/stack';
import type { Redis } from 'ioredis';
import { FAN_PASSWORD, seedFanAccounts } from '../src/fans/fan-accounts.ts';
import { httpClient } from '../src/fans/http-client.ts';
import { adminToken, signIn } from '../src/fans/sign-in.ts';
import { inBatches } from '../src/run/in-batches.ts';
import { setProviderFaults } from '../src/run/provider-faults.ts';
import { Recorder } from '../src/run/recorder.ts';

export interface EventLayout {
  holdSeconds: number;
  maxSeatsPerUser: number;
  sections: Array<{ name: string; rows: number; seatsPerRow: number; price: number }>;
}

const DEFAULT_LAYOUT: EventLayout = {
  holdSeconds: 60,
  maxSeatsPerUser: 4,
  sections: [{ name: 'A', rows: 40, seatsPerRow: 25, price: 100000 }],
};

/** Commands Redis has run since it started (INFO stats): read before and after, the difference is a run's cost. */
export async function redisCommandsProcessed(redis: Redis): Promise<number> {
  return Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1] ?? Number.NaN);
}

/** The same server and credentials, another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export const log = (m: string) => console.log(`bench: ${m}`);

/**
 * The stack a benchmark measures: infrastructure and services brought up as the scenario runner does, an admin
 * token, and `fans` signed-in users (their access tokens).
 */
export async function benchStack(fans: number, replicas: Partial<Record<ServiceName, number>> = {}) {
  const targets: Targets = defaultTargets(process.env);
  const recorder = new Recorder(0);
  const http = httpClient(recorder, 128);
  const stack = await ensureStack(targets, {
    logDir: join(resolve('reports'), `bench-logs-${Date.now()}`),
    log,
    proxied: false,
    mustOwn: [],
    replicas,
    // A bench measures the saga and the queue: no page for anyone to watch, and nothing more on the two cores.
    web: false,
  });
  await setProviderFaults(targets, { failureRate: 0, latencyMs: { min: 5, max: 20 } });
  const admin = await adminToken(targets, http);
  const started = Date.now();
  const accounts = await seedFanAccounts(
    targets.accountDb,
    fans,
    `bench${Date.now().toString(36)}`,
    new Faker({ locale: [en] }),
    1,
  );
  const tokens = await inBatches(accounts, 32, (a) => signIn(http, targets.account, a.email, FAN_PASSWORD));
  log(`${fans} fans signed in in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const ticketReplicas = replicas['ticket-service'] ?? 1;
  return {
    targets,
    /** Each ticket-service process's own address: the one URL, or each replica's behind the balancer. */
    ticketProcesses:
      ticketReplicas > 1
        ? Array.from(
            { length: ticketReplicas },
            (_, i) => `http://127.0.0.1:${replicaPort(Number(new URL(targets.ticket).port), i)}`,
          )
        : [targets.ticket],
    http,
    admin,
    tokens,
    /** The same fans signed in again: new tokens, none of which any service has verified yet. */
    signInAgain: () => inBatches(accounts, 32, (a) => signIn(http, targets.account, a.email, FAN_PASSWORD)),
    /**
     * An event on sale a moment from now: 1,000 seats unless `layout` says otherwise, and a waiting room when
     * `queue` is set.
     */
    async createEvent(
      queue: { admitPerSecond: number; maxActive: number } | undefined,
      layout: EventLayout = DEFAULT_LAYOUT,
    ) {
      const salesOpenAt = Date.now() + 1500;
      const res = await http.post<{ id: string }>(`${targets.ticket}/api/events`, {
        token: admin,
        body: {
          name: `bench ${new Date().toISOString()}`,
          venue: 'Bench Hall',
          startsAt: new Date(salesOpenAt + 86_400_000).toISOString(),
          salesOpenAt: new Date(salesOpenAt).toISOString(),
          ...layout,
          ...(queue === undefined
            ? {}
            : { queue: { opensAt: new Date(salesOpenAt - 500).toISOString(), ...queue } }),
        },
      });
      if (res.status !== 201)
        throw new Error(`creating the event failed: ${res.status} ${JSON.stringify(res.body)}`);
      await new Promise((r) => setTimeout(r, Math.max(0, salesOpenAt - Date.now() + 300)));
      return res.body.id;
    },
    async stop() {
      await http.close();
      await stack.stop();
    },
  };
}

export type BenchStack = Awaited<ReturnType<typeof benchStack>>;
