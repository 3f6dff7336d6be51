// npm run bench:queue — what the waiting room costs (issue 30), side by side with what Redis itself does on this
// machine, written to reports/bench-queue.json for the sizing (loadgen/src/sizing/report-shapes.ts, benchQueueShape).
import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { type BenchQueueReport, benchQueueShape } from '../src/sizing/report-shapes.ts';
import { type BenchStack, benchStack, log } from './bench-stack.ts';
import { cannon, cannonRow, mustHaveSucceeded } from './cannon.ts';
import { ticketCpuOf } from './process-cpu.ts';
import {
  type CommandsByPurpose,
  type CountedJoins,
  commandsPerJoin,
  commandsPerSecondOver,
  countedCommands,
  countJoins,
  joinScriptBenchmark,
  redisBenchmark,
  type WaitingCost,
} from './redis-costs.ts';
import { edgeUp, statusAtOriginAndEdge } from './shared-status.ts';
import { sseCapacity } from './sse-streams.ts';
import { crowdSplit, joinCrowd, measureWaitingCost, ownPlaceReads, waitingCrowd } from './waiting-crowd.ts';

const FANS = Number(process.env.BENCH_FANS ?? 4000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Open SSE streams to try for at the end; 0 leaves that step out. */
const SSE_TARGET = Number(process.env.BENCH_SSE ?? 50_000);
/** The waiting crowd's steady window, after it has settled from its joins. */
const CROWD_SECONDS = Number(process.env.BENCH_CROWD_SECONDS ?? 20);
const CROWD_SETTLE_SECONDS = 5;
/**
 * The crowd's queue admits slowly, as a sale's does, so its fans poll at the hints a moving queue gives: at 4,000
 * fans 10 a second, which puts the front two minutes (1,200 fans) near the front and lets about 250 in over the window.
 */
const CROWD_ADMIT_PER_SECOND = Math.max(1, Math.round(FANS / 400));
/** What the other queues' admission steps send before the crowd comes, to take out of its window. */
const BASELINE_SECONDS = 5;
const LOAD_SECONDS = 10;
/** The quiet stretch over which the process's idle work is measured: /proc counts hundredths of a second. */
const IDLE_SECONDS = 20;

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The stack's waiting rooms, as the steps below use them. */
function queues(stack: BenchStack) {
  const { targets } = stack;
  const change = async (eventId: string, body: object) => {
    const changed = await stack.http.patch(`${targets.ticket}/api/events/${eventId}/queue`, {
      token: stack.admin,
      body,
    });
    if (changed.status !== 200)
      throw new Error(`changing the queue (${JSON.stringify(body)}) failed: ${changed.status}`);
  };
  return {
    /** A paused queue: everyone stays waiting, so every read is the waiting fan's path being measured. */
    async paused() {
      const id = await stack.createEvent({ admitPerSecond: 1, maxActive: 1 });
      await change(id, { paused: true });
      return id;
    },
    /**
     * A queue admitting `perSecond` steadily, as its operator set it. The admission controller is off: the bench's
     * fans never book, and it would stop admitting while their admissions stood unspent.
     */
    async admitting(perSecond: number) {
      const id = await stack.createEvent({ admitPerSecond: perSecond, maxActive: FANS });
      await change(id, { admissionControl: 'off' });
      return id;
    },
    /** Every fan joins the queue once, each with the token given, as fast as 64 connections go; counted. */
    async joinAll(label: string, eventId: string, tokens: readonly string[] = stack.tokens) {
      const { value, cpuSeconds } = await ticketCpuOf(() =>
        countJoins(stack.ticketProcesses, async () =>
          mustHaveSucceeded(
            await cannon({
              label,
              url: targets.ticket,
              method: 'POST',
              path: () => `/api/events/${eventId}/queue`,
              tokens,
              body: '{}',
              connections: 64,
              amount: tokens.length,
            }),
          ),
        ),
      );
      return { ...value, cpuSeconds };
    },
  };
}

type Queues = ReturnType<typeof queues>;
/** Joins counted, with what they cost ticket-service in CPU seconds. */
type CostedJoins = CountedJoins & { cpuSeconds: number };

/**
 * Joins on a process that has served none yet (its hot paths still to compile), then `ROUNDS` rounds on a process
 * in its working state. In each round the fans sign in again (new tokens, never verified) and join one on-sale
 * (what `joinsPerSecond` is: a join that is its token's first signed request), then join a second with the same
 * tokens, now verified, as a real fan's is when the event page asks where they stand before the join button shows.
 */
async function joinRounds(stack: BenchStack, room: Queues, first: CostedJoins) {
  const rounds: { cold: CostedJoins; warm: CostedJoins }[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const fresh = await stack.signInAgain();
    const cold = await room.joinAll(`join, new token (${r})`, await room.paused(), fresh);
    const warm = await room.joinAll(`join, token verified (${r})`, await room.paused(), fresh);
    rounds.push({ cold, warm });
  }
  return {
    first,
    rounds,
    joinsPerSecond: median(rounds.map((r) => r.cold.result.requestsPerSecond)),
    cpuSecondsPerJoin: median(rounds.map((r) => r.cold.cpuSeconds / Math.max(1, r.cold.joins))),
    warmPerSecond: median(rounds.map((r) => r.warm.result.requestsPerSecond)),
    // The same fans, the same kind of join, a round apart: what differs is whether the token's signature is checked.
    tokenCheckSeconds: Math.max(
      0,
      median(
        rounds.map(
          (r) =>
            r.cold.cpuSeconds / Math.max(1, r.cold.joins) - r.warm.cpuSeconds / Math.max(1, r.warm.joins),
        ),
      ),
    ),
    perJoin: commandsPerJoin([first, ...rounds.flatMap((r) => [r.cold, r.warm])]),
  };
}

/**
 * The waiting crowd: every fan joins a queue that admits slowly, then waits as the loadgen's fans do (far back
 * reading the edge's shared status when told, near the front asking ticket-service with their ticket). Over a
 * steady window after it has settled, the waiting purposes' commands a second, less what they ran at before the
 * crowd came (the other queues' admission steps), over the fans waiting.
 */
async function crowdCost(stack: BenchStack, room: Queues) {
  const { targets } = stack;
  // Nobody polls or reads the other queues: what they cost meanwhile is their admission steps.
  const baselinePerSecond = {
    tick: (await commandsPerSecondOver(stack.ticketProcesses, BASELINE_SECONDS)).tick ?? 0,
  };
  const eventId = await room.admitting(CROWD_ADMIT_PER_SECOND);
  const fans = await joinCrowd(stack.http, targets.ticket, eventId, stack.tokens);
  const split = crowdSplit(fans);
  log(
    `waiting crowd: ${split.fans} fans joined (${split.nearFront} near the front, ${split.farBack} far back); settling ${CROWD_SETTLE_SECONDS} s, then ${CROWD_SECONDS} s measured`,
  );
  const crowd = waitingCrowd({
    fans,
    ticketUrl: targets.ticket,
    statusUrl: `${targets.edge}/api/events/${eventId}/queue/status`,
    eventId,
    until: Date.now() + (CROWD_SETTLE_SECONDS + CROWD_SECONDS + 1) * 1000,
  });
  await sleep(CROWD_SETTLE_SECONDS * 1000);
  const cost = await measureWaitingCost({
    crowd,
    processes: stack.ticketProcesses,
    seconds: CROWD_SECONDS,
    baselinePerSecond,
  });
  await crowd.finished();
  const { recorder } = crowd;
  return {
    eventId,
    split,
    baselinePerSecond,
    cost,
    behaviour: {
      nearAsks: recorder.waitingNear.originRequests,
      edgeLooks: recorder.edge.requests,
      edgeHits: recorder.edge.hits,
      answers: Object.fromEntries(recorder.http),
    },
  };
}

/** A fan's own place, asked with their ticket, as fast as 64 connections go, on a paused queue; counted. */
async function placeReads(stack: BenchStack, room: Queues) {
  const eventId = await room.paused();
  const fans = await joinCrowd(stack.http, stack.targets.ticket, eventId, stack.tokens);
  const before = await countedCommands(stack.ticketProcesses);
  const { value: reads, cpuSeconds } = await ticketCpuOf(async () =>
    mustHaveSucceeded(
      await ownPlaceReads({ ticketUrl: stack.targets.ticket, eventId, fans, seconds: LOAD_SECONDS }),
    ),
  );
  const after = await countedCommands(stack.ticketProcesses);
  return {
    reads,
    placePerRead: ((after.place ?? 0) - (before.place ?? 0)) / Math.max(1, reads.total),
    cpuSecondsPerRead: cpuSeconds / Math.max(1, reads.total),
    idleCores: await idleCores(),
  };
}

/**
 * One process's cores while no request comes, its waiting rooms (the bench's paused queues) ticking: what a
 * ticket-service replica of a sale costs between requests, which bench:saga's stack, with no queue, does not show.
 */
async function idleCores() {
  const idle = await ticketCpuOf(() => sleep(IDLE_SECONDS * 1000));
  return idle.cpuSeconds / IDLE_SECONDS;
}

/** One Redis's ceilings on this server, in the same run: the JOIN script (median of three runs), and a GET. */
async function redisCeilings(redis: Redis, redisUrl: string) {
  const joinScriptRuns = await joinScriptBenchmark(redis, redisUrl, { runs: 3, requests: 100_000 });
  return {
    joinScriptRuns,
    joinScriptPerSecond: median(joinScriptRuns),
    getPerSecond: redisBenchmark(redisUrl, ['GET', 'bench:wr:{redis-benchmark}:nothing']),
  };
}

type Joins = Awaited<ReturnType<typeof joinRounds>>;
type Crowd = Awaited<ReturnType<typeof crowdCost>>;
type Status = Awaited<ReturnType<typeof statusAtOriginAndEdge>>;
type Reads = Awaited<ReturnType<typeof placeReads>>;
type Ceilings = Awaited<ReturnType<typeof redisCeilings>>;

const perSecondOf = (counts: CommandsByPurpose) =>
  Object.entries(counts)
    .map(([purpose, n]) => `${purpose} ${n.toFixed(1)}`)
    .join(', ');

const goal = (met: boolean) => (met ? 'met' : 'NOT MET');

function printThroughput(processes: number, joins: Joins, reads: Reads, status: Status) {
  console.log(
    `\nwaiting room throughput, through the HTTP API (${processes} ticket-service process${processes === 1 ? '' : 'es'}, 2 cores shared)`,
  );
  console.log(cannonRow(joins.first.result));
  for (const r of joins.rounds) console.log(`${cannonRow(r.cold.result)}\n${cannonRow(r.warm.result)}`);
  console.log(cannonRow(reads.reads));
  console.log(cannonRow(status.origin));
  console.log(`${cannonRow(status.edge)}  edge served ${(status.edgeHitRatio * 100).toFixed(1)}% itself`);
  // CPU seconds per request against a core's worth per request at the measured rate: above 1, the process used
  // more than one core (its crypto and GC threads), and a rate alone underprices a request.
  const perRequest = (label: string, cpuSeconds: number, perSecond: number) =>
    console.log(
      `  ${label.padEnd(30)} ${(cpuSeconds * 1000).toFixed(3)} ms CPU  (1 ÷ its rate: ${(1000 / perSecond).toFixed(3)} ms; ×${(cpuSeconds * perSecond).toFixed(2)})`,
    );
  console.log('\nticket-service CPU per request (every thread, from /proc)');
  perRequest('join, new token (median)', joins.cpuSecondsPerJoin, joins.joinsPerSecond);
  perRequest('own place', reads.cpuSecondsPerRead, reads.reads.requestsPerSecond);
  perRequest(
    'status at the origin',
    status.origin.originCpuSeconds / Math.max(1, status.origin.total),
    status.origin.requestsPerSecond,
  );
  console.log(
    `  an access token's signature     ${(joins.tokenCheckSeconds * 1000).toFixed(3)} ms CPU  (a join with a new token less one with a checked token, median)`,
  );
  console.log(`  idle, its waiting rooms ticking       ${reads.idleCores.toFixed(3)} cores`);
}

function printRedisCosts(joins: Joins, reads: Reads, status: Status, crowd: Crowd) {
  const { cost, split, behaviour } = crowd;
  console.log('\nRedis commands, as ticket-service counts them (waiting_room_redis_commands_total{purpose})');
  console.log(
    `  per join                   ${joins.perJoin.toFixed(3)}  (over ${[joins.first, ...joins.rounds.flatMap((r) => [r.cold, r.warm])].reduce((n, r) => n + r.joins, 0)} joins)`,
  );
  console.log(`  per own-place read         ${reads.placePerRead.toFixed(4)}`);
  console.log(
    `  shared status              ${status.origin.statusCommandsPerSecond.toFixed(1)}/s answering ${status.origin.requestsPerSecond.toFixed(0)}/s at the origin; ${status.edge.statusCommandsPerSecond.toFixed(1)}/s answering ${status.edge.requestsPerSecond.toFixed(0)}/s through the edge`,
  );
  console.log(
    `  waiting crowd              ${cost.fans.toFixed(0)} fans waiting on average over ${cost.seconds.toFixed(1)} s (at the join ${split.nearFront} near the front, ${split.farBack} far back; the queue admitting ${CROWD_ADMIT_PER_SECOND}/s)`,
  );
  console.log(
    `    its fans asked ticket-service ${behaviour.nearAsks} times and read the edge ${behaviour.edgeLooks} times (${behaviour.edgeHits} served by the edge itself); answers ${JSON.stringify(behaviour.answers)}`,
  );
  console.log(
    `    commands/s: ${perSecondOf(cost.perSecond)}  (less, before the crowd came: ${perSecondOf(crowd.baselinePerSecond)})`,
  );
  console.log(`  per waiting fan per second ${cost.perWaitingFanSecond.toExponential(2)}`);
}

/** Issue 30's two goals, from figures of the same run. */
function printGoals(joins: Joins, ceilings: Ceilings, reads: Reads) {
  const ratio = joins.joinsPerSecond / ceilings.joinScriptPerSecond;
  const perJoin = Math.round(joins.perJoin * 100) / 100;
  console.log('\nside by side with redis-benchmark, same server, same run');
  console.log(
    `  JOIN script (EVALSHA, keys seq, tickets, gaps)  ${ceilings.joinScriptPerSecond.toFixed(0)}/s  (median of ${ceilings.joinScriptRuns.map((x) => x.toFixed(0)).join(', ')})`,
  );
  console.log(
    `  joins, new token            ${joins.joinsPerSecond.toFixed(0)}/s  ratio ${ratio.toFixed(3)}  goal ≥ 0.5: ${goal(ratio >= 0.5)}  (median of ${ROUNDS} rounds)`,
  );
  console.log(
    `  joins, token verified       ${joins.warmPerSecond.toFixed(0)}/s  ratio ${(joins.warmPerSecond / ceilings.joinScriptPerSecond).toFixed(3)}`,
  );
  console.log(`  commands per join (counted) ${perJoin.toFixed(2)}  goal ≤ 3: ${goal(perJoin <= 3)}`);
  console.log(
    `  GET                         redis-benchmark ${ceilings.getPerSecond.toFixed(0)}/s; own-place reads ${reads.reads.requestsPerSecond.toFixed(0)}/s, ratio ${(reads.reads.requestsPerSecond / ceilings.getPerSecond).toFixed(3)}`,
  );
}

/** The figures the sizing reads, and only those (benchQueueShape): checked before they are written. */
function writeReport(joins: Joins, reads: Reads, crowd: WaitingCost, status: Status, ceilings: Ceilings) {
  const report: BenchQueueReport = {
    at: new Date().toISOString(),
    joinsPerSecond: joins.joinsPerSecond,
    reads: { requestsPerSecond: reads.reads.requestsPerSecond },
    idleCores: reads.idleCores,
    tokenCheckSeconds: joins.tokenCheckSeconds,
    redis: {
      perJoin: joins.perJoin,
      perWaitingFanSecond: crowd.perWaitingFanSecond,
      perQueueSecond: crowd.perQueueSecond,
    },
    redisBenchmark: {
      joinScriptPerSecond: ceilings.joinScriptPerSecond,
      getPerSecond: ceilings.getPerSecond,
    },
    edge: {
      statusPerSecond: status.edge.requestsPerSecond,
      originStatusPerSecond: status.origin.requestsPerSecond,
    },
  };
  const checked = benchQueueShape.safeParse(report);
  if (!checked.success)
    throw new Error(`the figures make no report the sizing can read: ${checked.error.message}`);
  mkdirSync('reports', { recursive: true });
  writeFileSync('reports/bench-queue.json', `${JSON.stringify(checked.data, null, 2)}\n`);
  log('report in reports/bench-queue.json');
}

async function main() {
  log(`${FANS} fans; SSE target ${SSE_TARGET}`);
  const replicas = Number(process.env.BENCH_TICKET_REPLICAS ?? 1);
  const stack = await benchStack(FANS, replicas > 1 ? { 'ticket-service': replicas } : {});
  const redis = new Redis(stack.targets.ticketRedis);
  try {
    // The far fans read the edge, and its rate is one of the figures: without it there is nothing to measure.
    if (!(await edgeUp(stack.targets.edge)))
      throw new Error(`the edge cache is not answering at ${stack.targets.edge}: npm run infra:up starts it`);
    const room = queues(stack);
    // First, on a process that has served no join yet; its queue is where the SSE streams open at the end.
    const firstEventId = await room.paused();
    const first = await room.joinAll('join, first on a new process', firstEventId);
    const crowd = await crowdCost(stack, room);
    const status = await statusAtOriginAndEdge({
      origin: stack.targets.ticket,
      edge: stack.targets.edge,
      eventId: crowd.eventId,
      seconds: LOAD_SECONDS,
      processes: stack.ticketProcesses,
    });
    mustHaveSucceeded(status.origin);
    mustHaveSucceeded(status.edge);
    const joins = await joinRounds(stack, room, first);
    const reads = await placeReads(stack, room);
    const ceilings = await redisCeilings(redis, stack.targets.ticketRedis);

    printThroughput(stack.ticketProcesses.length, joins, reads, status);
    printRedisCosts(joins, reads, status, crowd);
    printGoals(joins, ceilings, reads);
    // The sizing's figures are one process's: through a balancer to several they would be several's.
    if (stack.ticketProcesses.length === 1) writeReport(joins, reads, crowd.cost, status, ceilings);
    else log('reports/bench-queue.json not written: its figures are one ticket-service process’s');

    if (SSE_TARGET > 0) await sseCapacity(stack, firstEventId, SSE_TARGET);
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
