import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
// The waiting room's own join script, run by redis-benchmark too: the ratio compares like with like.
import { JOIN } from '@reservex/ticket-service/queue-scripts';
import type { Redis } from 'ioredis';
import { WAITING_PURPOSES } from '../src/report/process-figures.ts';
import type { CannonResult } from './cannon.ts';

/** What the waiting room costs Redis, as ticket-service counts it (waiting_room_redis_commands_total{purpose}). */
export type CommandsByPurpose = Record<string, number>;

const SERIES = /^waiting_room_redis_commands_total\{([^}]*)\} ([0-9.e+]+)$/gm;

/** The counter's value for each purpose, from one /metrics page (other labels, such as `service`, summed over). */
export function commandsByPurpose(metricsText: string): CommandsByPurpose {
  const counts: CommandsByPurpose = {};
  for (const [, labels, value] of metricsText.matchAll(SERIES)) {
    const purpose = /purpose="([^"]*)"/.exec(labels!)?.[1];
    if (purpose !== undefined) counts[purpose] = (counts[purpose] ?? 0) + Number(value);
  }
  return counts;
}

/** The counter summed over every ticket-service process (each replica counts its own). */
export async function countedCommands(processes: readonly string[]): Promise<CommandsByPurpose> {
  const pages = await Promise.all(processes.map(async (url) => (await fetch(`${url}/metrics`)).text()));
  const total: CommandsByPurpose = {};
  for (const counts of pages.map(commandsByPurpose))
    for (const [purpose, n] of Object.entries(counts)) total[purpose] = (total[purpose] ?? 0) + n;
  return total;
}

/** What each purpose sent between two readings, divided by `per` (1 for the count itself). */
export function commandsBetween(
  before: CommandsByPurpose,
  after: CommandsByPurpose,
  per = 1,
): CommandsByPurpose {
  return Object.fromEntries(
    Object.keys(after).map((purpose) => [purpose, (after[purpose]! - (before[purpose] ?? 0)) / per]),
  );
}

export const sumOf = (counts: CommandsByPurpose, purposes: readonly string[]) =>
  purposes.reduce((n, p) => n + (counts[p] ?? 0), 0);

/** A run of joins, and the Redis commands ticket-service counted for them (purpose `join`). */
export interface CountedJoins {
  result: CannonResult;
  /** Joins answered: 201 for a new place, 200 for one already held. */
  joins: number;
  commands: number;
}

/** Runs the joins `run` sends, reading the counter before and after (nothing else joins meanwhile). */
export async function countJoins(
  processes: readonly string[],
  run: () => Promise<CannonResult>,
): Promise<CountedJoins> {
  const before = await countedCommands(processes);
  const result = await run();
  const after = await countedCommands(processes);
  return {
    result,
    joins: (result.statuses['201'] ?? 0) + (result.statuses['200'] ?? 0),
    commands: (after.join ?? 0) - (before.join ?? 0),
  };
}

/** The commands a join cost, over every join of the runs: issue 30's goal is at most 3. */
export function commandsPerJoin(runs: readonly CountedJoins[]): number {
  const joins = runs.reduce((n, r) => n + r.joins, 0);
  return joins > 0 ? runs.reduce((n, r) => n + r.commands, 0) / joins : Number.NaN;
}

/** What each purpose sent a second over the next `seconds`, counted over every process. */
export async function commandsPerSecondOver(
  processes: readonly string[],
  seconds: number,
): Promise<CommandsByPurpose> {
  const before = await countedCommands(processes);
  const started = performance.now();
  await sleep(seconds * 1000);
  const after = await countedCommands(processes);
  return commandsBetween(before, after, (performance.now() - started) / 1000);
}

/** What a waiting crowd cost Redis over a window, beyond what was sent before it came. */
export interface WaitingCost {
  seconds: number;
  /** Fans waiting, on average over the window (its start and its end). */
  fans: number;
  /** The waiting purposes' commands a second, less the baseline's (never below 0). */
  perSecond: CommandsByPurpose;
  /** Their sum over the fans: issue 30's figure, `redis.perWaitingFanSecond` in the report. */
  perWaitingFanSecond: number;
  /** Their sum: what the queue costs a second while its crowd waits, `redis.perQueueSecond` in the report. */
  perQueueSecond: number;
}

/**
 * The waiting purposes (presence, place, tick, status) a second over a window, less the same purposes a second
 * before the crowd came (`baselinePerSecond`: the admission steps of every other queue this ticket-service ticks,
 * which a waiting fan does not cause), over the fans waiting on average.
 */
export function waitingCostOf(
  window: {
    before: CommandsByPurpose;
    after: CommandsByPurpose;
    seconds: number;
    fansAtStart: number;
    fansAtEnd: number;
  },
  baselinePerSecond: CommandsByPurpose,
): WaitingCost {
  const rates = commandsBetween(window.before, window.after, window.seconds);
  const perSecond = Object.fromEntries(
    WAITING_PURPOSES.map((p) => [p, Math.max(0, (rates[p] ?? 0) - (baselinePerSecond[p] ?? 0))]),
  );
  const fans = (window.fansAtStart + window.fansAtEnd) / 2;
  return {
    seconds: window.seconds,
    fans,
    perSecond,
    perWaitingFanSecond: fans > 0 ? sumOf(perSecond, WAITING_PURPOSES) / fans : Number.NaN,
    perQueueSecond: sumOf(perSecond, WAITING_PURPOSES),
  };
}

/**
 * redis-benchmark's arguments for one first join, exactly as ticket-service sends it (queue-store.ts `join`): the
 * JOIN script by its SHA with its three keys (cfg, tickets, gaps), a user (a random one each time, so nearly every
 * join is a first join: EVALSHA, HINCRBY, HSETNX) and the join's time.
 */
export function joinBenchmarkArgs(sha: string, key: (name: string) => string, joinedAtMs: number): string[] {
  return [
    'EVALSHA',
    sha,
    '3',
    key('cfg'),
    key('tickets'),
    key('gaps'),
    'user:__rand_int__',
    String(joinedAtMs),
  ];
}

/** redis-benchmark's command line for `requests` of one command against the Redis at `redisUrl`, in CSV. */
export function redisBenchmarkArgs(
  redisUrl: string,
  command: readonly string[],
  o: { requests: number; clients: number },
): string[] {
  const u = new URL(redisUrl);
  const database = u.pathname.replace('/', '');
  return [
    ...['-h', u.hostname, '-p', u.port || '6379'],
    ...(u.password === '' ? [] : ['-a', decodeURIComponent(u.password), '--no-auth-warning']),
    ...(u.username === '' || u.password === '' ? [] : ['--user', decodeURIComponent(u.username)]),
    ...(database === '' ? [] : ['--dbnum', database]),
    ...['-n', String(o.requests), '-c', String(o.clients)],
    // __rand_int__ in the command: a number below this, so nearly every user is new.
    ...['-r', '10000000'],
    '--csv',
    ...command,
  ];
}

/** The operations a second redis-benchmark's CSV reports (its `rps` column; the last row, the one command run). */
export function benchmarkRate(csv: string): number {
  const rows = csv
    .trim()
    .split('\n')
    .map((line) => [...line.matchAll(/"((?:[^"]|"")*)"/g)].map((m) => m[1]!));
  const column = rows[0]?.indexOf('rps') ?? -1;
  const rate = Number(rows.at(-1)?.[column]);
  if (column < 0 || rows.length < 2 || !(rate > 0))
    throw new Error(`redis-benchmark printed no rate: ${csv.slice(0, 300)}`);
  return rate;
}

/** redis-benchmark for one command, on the same server, in the same run: operations a second. */
export function redisBenchmark(redisUrl: string, command: readonly string[], requests = 100_000): number {
  const out = spawnSync('redis-benchmark', redisBenchmarkArgs(redisUrl, command, { requests, clients: 50 }), {
    encoding: 'utf8',
  });
  if (out.error !== undefined || out.status !== 0)
    throw new Error(
      `redis-benchmark failed (${out.error?.message ?? out.stderr}); it ships with redis-tools`,
    );
  return benchmarkRate(out.stdout);
}

/**
 * The JOIN script under redis-benchmark, `runs` times on `redis`'s server, each run on keys of its own (a hash tag of
 * their own, as an event's are) deleted after: the ceiling one Redis sets on joins. Each run's rate.
 */
export async function joinScriptBenchmark(
  redis: Redis,
  redisUrl: string,
  o: { runs: number; requests: number },
): Promise<number[]> {
  const sha = (await redis.script('LOAD', JOIN)) as string;
  const rates: number[] = [];
  for (let run = 1; run <= o.runs; run++) {
    const key = (name: string) => `bench:wr:{redis-benchmark-${run}}:${name}`;
    try {
      const rate = redisBenchmark(redisUrl, joinBenchmarkArgs(sha, key, Date.now()), o.requests);
      // redis-benchmark counts an error reply (NOSCRIPT, a wrong key count) as a request done: every join must be there.
      const joined = Number(await redis.hget(key('cfg'), 'seq'));
      if (joined !== o.requests)
        throw new Error(
          `redis-benchmark sent ${o.requests} joins, and ${joined} ran: its rate is not the script's`,
        );
      rates.push(rate);
    } finally {
      await redis.del(key('cfg'), key('tickets'), key('gaps'));
    }
  }
  return rates;
}
