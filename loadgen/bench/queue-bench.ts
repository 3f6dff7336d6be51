// npm run bench:queue — what the waiting room costs, side by side with what Redis itself does on this machine.
import { fork, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
// The waiting room's own join script, run by redis-benchmark too: the ratio compares like with like.
import { JOIN } from '@reservex/ticket-service/queue-scripts';
import { Redis } from 'ioredis';
import { benchStack, log, redisCommandsProcessed } from './bench-stack.ts';
import { type CannonResult, cannon, cannonRow } from './cannon.ts';

const FANS = Number(process.env.BENCH_FANS ?? 4000);
const SSE_TARGET = Number(process.env.BENCH_SSE ?? 50_000);
const PER_HOLDER = 8000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function sumGauges(gauges: Awaited<ReturnType<typeof serviceGauges>>[]) {
  return {
    rssBytes: gauges.reduce((n, g) => n + g.rssBytes, 0),
    openFds: gauges.reduce((n, g) => n + g.openFds, 0),
    maxFds: gauges.reduce((n, g) => n + g.maxFds, 0),
  };
}

async function serviceGauges(ticketUrl: string) {
  const text = await (await fetch(`${ticketUrl}/metrics`)).text();
  const gauge = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    openFds: gauge('process_open_fds'),
    maxFds: gauge('process_max_fds'),
    rssBytes: gauge('process_resident_memory_bytes'),
  };
}

/** redis-benchmark for one command, on the same server, in the same run: operations per second. */
function redisBenchmark(url: string, args: string[], requests = 100_000): number {
  const u = new URL(url);
  const out = spawnSync(
    'redis-benchmark',
    [
      '-h',
      u.hostname,
      '-p',
      u.port || '6379',
      '-n',
      String(requests),
      '-c',
      '50',
      '-r',
      '10000000',
      '--csv',
      ...args,
    ],
    { encoding: 'utf8' },
  );
  if (out.error !== undefined || out.status !== 0)
    throw new Error(
      `redis-benchmark failed (${out.error?.message ?? out.stderr}); it ships with redis-tools`,
    );
  const row = out.stdout.trim().split('\n').at(-1)!.split('","');
  return Number(row[1]);
}

interface SseOutcome {
  opened: number;
  alive: number;
  failures: Record<string, number>;
}

async function holdStreams(
  /** Streams to open on each ticket-service process, by its URL. */
  plan: ReadonlyArray<{ url: string; count: number }>,
  eventId: string,
  tokens: string[],
): Promise<{ outcome: SseOutcome; release: () => void }> {
  const jobs = plan.flatMap(({ url, count }) =>
    Array.from({ length: Math.ceil(count / PER_HOLDER) }, (_, k) => ({
      url: new URL(url),
      count: Math.min(PER_HOLDER, count - k * PER_HOLDER),
    })),
  );
  const holders = jobs.map((job, k) => {
    const child = fork(resolve(import.meta.dirname, 'sse-holder.ts'), { stdio: 'inherit' });
    const result = new Promise<SseOutcome>((r) => child.once('message', (m) => r(m as SseOutcome)));
    child.send({
      host: job.url.hostname,
      port: Number(job.url.port),
      localAddress: `127.0.0.${10 + k}`,
      path: `/api/events/${eventId}/queue/stream`,
      tokens,
      count: job.count,
      concurrency: 100,
    });
    return { child, result };
  });
  const outcomes = await Promise.all(holders.map((h) => h.result));
  const failures: Record<string, number> = {};
  for (const o of outcomes)
    for (const [k, v] of Object.entries(o.failures)) failures[k] = (failures[k] ?? 0) + v;
  return {
    outcome: {
      opened: outcomes.reduce((n, o) => n + o.opened, 0),
      alive: outcomes.reduce((n, o) => n + o.alive, 0),
      failures,
    },
    release: () => {
      for (const h of holders) h.child.disconnect();
    },
  };
}

async function main() {
  log(`${FANS} fans; SSE target ${SSE_TARGET}`);
  const replicas = Number(process.env.BENCH_TICKET_REPLICAS ?? 1);
  const stack = await benchStack(FANS, replicas > 1 ? { 'ticket-service': replicas } : {});
  const { targets, tokens } = stack;
  const redis = new Redis(targets.ticketRedis);
  /** A paused queue: everyone stays waiting, so every read is the waiting-user path being measured. */
  const pausedQueue = async () => {
    const id = await stack.createEvent({ admitPerSecond: 1, maxActive: 1 });
    const paused = await stack.http.patch(`${targets.ticket}/api/events/${id}/queue`, {
      token: stack.admin,
      body: { paused: true },
    });
    if (paused.status !== 200) throw new Error(`pausing the queue failed: ${paused.status}`);
    return id;
  };
  /** Every fan joins the queue once, each with the token given. */
  const joinAll = (label: string, id: string, as: readonly string[] = tokens) =>
    cannon({
      label,
      url: targets.ticket,
      method: 'POST',
      path: () => `/api/events/${id}/queue`,
      tokens: as,
      body: '{}',
      connections: 64,
      amount: FANS,
    });
  try {
    const eventId = await pausedQueue();

    const idleStart = await redisCommandsProcessed(redis);
    await sleep(5000);
    const idlePerSecond = ((await redisCommandsProcessed(redis)) - idleStart - 1) / 5;
    log(
      `Redis background load (admission ticks of every known queue): ${idlePerSecond.toFixed(1)} commands/s`,
    );

    const c0 = await redisCommandsProcessed(redis);
    const firstJoins = await joinAll('join, first on a new process', eventId);
    const c1 = await redisCommandsProcessed(redis);
    // The first round also compiles ticket-service's hot paths; the rounds after it measure a process in its
    // working state. In each, the fans sign in again (new tokens, never verified) and join one on-sale, then join
    // a second with the same tokens, now verified, as a real fan's is when the event page asks where they stand
    // (GET /queue/me) before the join button shows: a join without a signature check.
    const rounds: { cold: CannonResult; warm: CannonResult }[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const fresh = await stack.signInAgain();
      const cold = await joinAll(`join, new token (${r})`, await pausedQueue(), fresh);
      const warm = await joinAll(`join, token verified (${r})`, await pausedQueue(), fresh);
      rounds.push({ cold, warm });
    }
    const joinsPerSecond = median(rounds.map((r) => r.cold.requestsPerSecond));
    const warmPerSecond = median(rounds.map((r) => r.warm.requestsPerSecond));
    const c1b = await redisCommandsProcessed(redis);
    const reads = await cannon({
      label: 'position  GET /api/events/:id/queue/me',
      url: targets.ticket,
      path: () => `/api/events/${eventId}/queue/me`,
      tokens,
      connections: 64,
      seconds: 10,
    });
    const c2 = await redisCommandsProcessed(redis);
    const perJoin =
      (c1 - c0 - 1 - idlePerSecond * (firstJoins.total / firstJoins.requestsPerSecond)) / firstJoins.total;
    const perRead = Math.max(0, (c2 - c1b - 1 - idlePerSecond * 10) / reads.total);

    // A waiting crowd on SSE: no reads of its own, only the ticker's broadcasts and batched heartbeats.
    const crowd = await holdStreams([{ url: targets.ticket, count: FANS }], eventId, tokens);
    const s0 = await redisCommandsProcessed(redis);
    await sleep(10_000);
    const sseNet = Math.max(0, ((await redisCommandsProcessed(redis)) - s0 - 1) / 10 - idlePerSecond);
    const ssePerUser = sseNet / crowd.outcome.alive;
    crowd.release();
    const pollHint = Number(
      (await stack.http.get(`${targets.ticket}/api/events/${eventId}/queue/me`, { token: tokens[0] }))
        .headers['retry-after'] ?? 1,
    );

    const sha = (await redis.script('LOAD', JOIN)) as string;
    const b = (n: string) => `bench:wr:{redis-benchmark}:${n}`;
    await redis.hset(b('cfg'), { opensAt: 0, salesOpenAt: 0, rate: 1, maxActive: 1 });
    const scriptKeys = ['cfg', 'seq', 'tickets', 'owners', 'pre', 'seen', 'joined', 'served', 'admitted'].map(
      b,
    );
    // The same work as an HTTP join: both join limits counted (the address's never reached), then the join.
    const rawJoinRun = () =>
      redisBenchmark(targets.ticketRedis, [
        'EVALSHA',
        sha,
        '11',
        ...scriptKeys,
        b('joins:user:__rand_int__'),
        b('joins:ip:127.0.0.1'),
        'user:__rand_int__',
        '12345',
        '60000',
        '30',
        '1000000000',
      ]);
    const rawJoins = [rawJoinRun(), rawJoinRun(), rawJoinRun()];
    const rawJoin = median(rawJoins);
    const rawGet = redisBenchmark(targets.ticketRedis, ['GET', b('served')]);
    await redis.del(...scriptKeys, b('joins:ip:127.0.0.1'));

    console.log(
      '\nwaiting room throughput, through the HTTP API (one ticket-service process, 2 cores shared)',
    );
    console.log(cannonRow(firstJoins));
    for (const r of rounds) console.log(`${cannonRow(r.cold)}\n${cannonRow(r.warm)}`);
    console.log(cannonRow(reads));
    console.log('\nRedis cost');
    console.log(`  commands per join                 ${perJoin.toFixed(2)}`);
    console.log(
      `  commands per position read        ${perRead.toFixed(3)}  (from the broadcast serving counter)`,
    );
    console.log(
      `  commands per waiting user per s   SSE ${ssePerUser.toExponential(2)} over ${crowd.outcome.alive} streams; polling ${(perRead / pollHint).toFixed(4)} at the Retry-After hint of ${pollHint} s`,
    );
    console.log('\nside by side with redis-benchmark, same server, same run');
    console.log(
      `  join script (EVALSHA)   redis-benchmark ${rawJoin.toFixed(0)}/s (median of ${rawJoins.map((x) => x.toFixed(0)).join(', ')})`,
    );
    console.log(
      `    HTTP joins, new token          ${joinsPerSecond.toFixed(0)}/s   ratio ${(joinsPerSecond / rawJoin).toFixed(3)}   (median of ${ROUNDS} rounds)`,
    );
    console.log(
      `    HTTP joins, token verified     ${warmPerSecond.toFixed(0)}/s   ratio ${(warmPerSecond / rawJoin).toFixed(3)}   (median of ${ROUNDS} rounds)`,
    );
    console.log(
      `    HTTP joins, first on a new process ${firstJoins.requestsPerSecond.toFixed(0)}/s   ratio ${(firstJoins.requestsPerSecond / rawJoin).toFixed(3)}`,
    );
    console.log(
      `  GET                     redis-benchmark ${rawGet.toFixed(0)}/s   HTTP reads ${reads.requestsPerSecond.toFixed(0)}/s   ratio ${(reads.requestsPerSecond / rawGet).toFixed(3)}`,
    );
    const usersPerRedis = ssePerUser > 0 ? rawGet / ssePerUser : Number.POSITIVE_INFINITY;
    console.log(
      `  waiting users one Redis carries at that cost: ${Number.isFinite(usersPerRedis) ? usersPerRedis.toExponential(2) : 'unbounded (no per-user commands measured)'}`,
    );

    // One process may hold only as many streams as it may open descriptors: the crowd is spread over the
    // ticket-service replicas (BENCH_TICKET_REPLICAS), each given what its own limit leaves room for.
    const processes = stack.ticketProcesses;
    const befores = await Promise.all(processes.map(serviceGauges));
    const rooms = befores.map((b) => Math.max(0, b.maxFds - b.openFds - 256));
    const planned = Math.min(
      SSE_TARGET,
      rooms.reduce((a, b) => a + b, 0),
    );
    const plan = processes.map((url, i) => ({
      url,
      count: Math.min(rooms[i]!, Math.ceil(planned / processes.length)),
    }));
    const before = sumGauges(befores);
    log(
      `holding ${planned} SSE streams on ${processes.length} ticket-service process(es) (${plan.map((p) => p.count).join(' + ')}; each may open ${befores[0]?.maxFds} descriptors)`,
    );
    const held = await holdStreams(plan, eventId, tokens);
    await sleep(3000);
    const peaks = await Promise.all(processes.map(serviceGauges));
    const peak = sumGauges(peaks);
    const probeStart = performance.now();
    const probe = await stack.http.get(`${targets.ticket}/api/events/${eventId}/queue/me`, {
      token: tokens[0],
    });
    const probeMs = performance.now() - probeStart;
    held.release();
    const perConnection = (peak.rssBytes - before.rssBytes) / Math.max(1, held.outcome.alive);
    console.log(`\nopen SSE connections on ${processes.length} ticket-service process(es)`);
    console.log(
      `  held ${held.outcome.alive} of ${SSE_TARGET}; failures ${JSON.stringify(held.outcome.failures)}; a position read meanwhile answered ${probe.status} in ${probeMs.toFixed(0)} ms`,
    );
    console.log(
      `  memory, summed over the processes: ${(before.rssBytes / 2 ** 20).toFixed(0)} → ${(peak.rssBytes / 2 ** 20).toFixed(0)} MiB (${peaks.map((g) => (g.rssBytes / 2 ** 20).toFixed(0)).join(' + ')}), ${(perConnection / 1024).toFixed(1)} KiB per stream; 50,000 would need about ${((before.rssBytes + perConnection * 50_000) / 2 ** 20).toFixed(0)} MiB`,
    );
    if (planned < SSE_TARGET)
      console.log(
        `  limit reached: the process may open ${before.maxFds} file descriptors (RLIMIT_NOFILE). Raise it (ulimit -n ${SSE_TARGET + 2000} or LimitNOFILE in systemd) for ${SSE_TARGET}; here the hard limit cannot be raised without CAP_SYS_RESOURCE.`,
      );

    const report = {
      fans: FANS,
      firstJoins,
      rounds,
      joinsPerSecond,
      warmJoinsPerSecond: warmPerSecond,
      reads,
      redis: { idlePerSecond, perJoin, perRead, ssePerUserPerSecond: ssePerUser, pollHintSeconds: pollHint },
      redisBenchmark: { joinScriptPerSecond: rawJoin, joinScriptRuns: rawJoins, getPerSecond: rawGet },
      ratios: {
        joins: joinsPerSecond / rawJoin,
        warmJoins: warmPerSecond / rawJoin,
        firstJoins: firstJoins.requestsPerSecond / rawJoin,
        reads: reads.requestsPerSecond / rawGet,
      },
      sse: { target: SSE_TARGET, planned, ...held.outcome, before, peak, bytesPerStream: perConnection },
    };
    mkdirSync('reports', { recursive: true });
    writeFileSync('reports/bench-queue.json', `${JSON.stringify(report, null, 2)}\n`);
    log('report in reports/bench-queue.json');
  } finally {
    redis.disconnect();
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`bench:queue failed: ${error.message}`);
    process.exit(1);
  },
);
