import { z } from 'zod';

// The fields of each report the sizing reads, and nothing else: a report may hold more, and one that lacks a field
// here predates the figure, so the bench or the run must be done again. One place to change when a report does.

const positive = z.number().positive();
const atLeastZero = z.number().nonnegative();

/** What a unit of work costs a process paced at each rate, as a multiple of its saturated cost; rising rates. */
const loadPoints = z
  .array(z.object({ perSecond: positive, factor: z.number().min(1) }))
  .min(2)
  .refine((points) => points.every((p, i) => i === 0 || p.perSecond > points[i - 1]!.perSecond), {
    message: 'the rates must rise',
  });

/** reports/bench-queue.json, written by `npm run bench:queue` (loadgen/bench/queue-bench.ts). */
export const benchQueueShape = z.object({
  at: z.string().optional(),
  /** Joins a second one ticket-service process serves, each the first signed request of its token. */
  joinsPerSecond: positive,
  /** A fan's own place (GET …/queue/me, with their queue ticket), what fans near the front ask the origin: a second, one process. */
  reads: z.object({ requestsPerSecond: positive }),
  /**
   * One ticket-service process's cores while no request comes, its waiting rooms ticking (the bench's paused queues):
   * what a replica of a sale costs between requests, which bench:saga's stack, with no queue, does not show.
   */
  idleCores: atLeastZero,
  /**
   * CPU seconds one process spends checking an access token's signature: a join with a token it has not seen, less
   * a join with one it has (from /proc, the median of the bench's rounds). What a fan costs each further replica
   * their requests reach, each process remembering only the tokens it checked itself.
   */
  tokenCheckSeconds: atLeastZero,
  redis: z.object({
    perJoin: atLeastZero,
    /**
     * Commands a second for each fan waiting: presence batches, fans' own places, the admission steps and the shared
     * status (the waiting purposes of waiting_room_redis_commands_total), over a crowd waiting as the loadgen's fans
     * do, net of other queues' steps. The queue's own steps are shared out over the bench's crowd (BENCH_FANS): over a
     * larger one this overstates them.
     */
    perWaitingFanSecond: atLeastZero,
    /**
     * The same commands a second for the queue as a whole, whatever its crowd: presence goes in batches per step and
     * a fan's place is worked out from memory, so what a waiting crowd costs Redis is its queue's, not each fan's.
     * What the sizing prices per event.
     */
    perQueueSecond: atLeastZero,
  }),
  redisBenchmark: z.object({
    /** The join script (EVALSHA) a second on one Redis: one shard's ceiling for joins. */
    joinScriptPerSecond: positive,
    /** GET a second on one Redis: one shard's ceiling for plain commands. */
    getPerSecond: positive,
  }),
  /** The shared status (GET …/queue/status) a second through the edge cache, and straight from one origin process. */
  edge: z.object({ statusPerSecond: positive, originStatusPerSecond: positive }),
});
export type BenchQueueReport = z.infer<typeof benchQueueShape>;

const perService = z.object({
  'ticket-service': atLeastZero,
  'payment-service': atLeastZero,
  'payment-provider': atLeastZero,
  'account-service': atLeastZero,
});

/** reports/bench-saga.json, written by `npm run bench:saga` (loadgen/bench/saga-bench.ts). */
export const benchSagaShape = z.object({
  at: z.string(),
  seed: z.number(),
  figuresPublishable: z.boolean(),
  saturation: z.object({
    /** Reservations made (202), declined payments included: what the per-booking figures are per. */
    booked: positive,
    confirmed: positive,
    confirmedPerSecond: positive,
    cpuSecondsPerBooking: z.object({
      'ticket-service': atLeastZero,
      'payment-service': atLeastZero,
      'payment-provider': atLeastZero,
    }),
    postgresCpuSecondsPerBooking: perService,
    statementsPerBookingByService: perService.nullable(),
    redisCommandsPerBooking: atLeastZero,
    kafkaTopics: z.record(
      z.string(),
      z.object({ messagesPerBooking: atLeastZero, partitions: z.number().int().positive() }),
    ),
  }),
  /** A booking's CPU per service on one process paced at each rate, against its saturated CPU per booking. */
  loadFactor: z.object({
    'ticket-service': loadPoints,
    'payment-service': loadPoints,
    'payment-provider': loadPoints,
  }),
  idle: z.object({
    seconds: positive,
    components: z.record(
      z.string(),
      z.object({ cores: atLeastZero, processes: z.number().int().nonnegative() }),
    ),
  }),
  signIn: z.object({
    signIns: positive,
    cpuSecondsPerSignIn: z.object({ 'account-service': atLeastZero, postgres: atLeastZero }),
    passwordHash: z.object({
      asMeasured: z.object({ log2N: z.number().int(), cpuSeconds: atLeastZero }),
      production: z.object({ log2N: z.number().int(), cpuSeconds: atLeastZero }),
    }),
  }),
});
export type BenchSagaReport = z.infer<typeof benchSagaShape>;

const serviceCores = z.object({
  replicas: z.number().int().positive(),
  /** Cores the service's processes used together, on average over the sampled stretch. */
  meanCores: atLeastZero,
  peakCores: atLeastZero,
  peakAtSecond: z.number(),
  cpuSeconds: atLeastZero,
});

const fanTime = z.object({ fanMinutes: atLeastZero, originRequests: atLeastZero, perFanMinute: atLeastZero });

/**
 * A scenario run's report (loadgen/src/report/run-report.ts), with the blocks the sizing reads: each service's CPU
 * over the sale (`processes`) and the waiting room's traffic (`waitingRoom`). The million run gives the crowd's
 * behaviour; the scale-out run is what the model's prediction is checked against.
 */
export const runReportShape = z.object({
  scenario: z.object({
    name: z.string(),
    users: z.number().int(),
    capacity: z.number().int(),
    scale: z.number(),
    /** Present when the report carries the scenario as run; otherwise scenarios/<name>.json says. */
    arrival: z.object({ beforeOpenSeconds: atLeastZero.default(0), overSeconds: atLeastZero }).optional(),
  }),
  startedAt: z.string(),
  /** False when the load generator was the bottleneck: then the figures are the generator's (run-report.ts). */
  figuresPublishable: z.boolean().optional(),
  soldSeats: atLeastZero,
  outcomes: z.object({ fansArrived: atLeastZero, reservations: atLeastZero, confirmed: atLeastZero }),
  /** One sample per fan admitted: its count is the admissions the fans saw. */
  queueWaitMs: z.object({ count: atLeastZero }),
  processes: z.object({
    intervalSeconds: positive,
    services: z.record(z.string(), serviceCores),
    /** Each sample's counts are the interval's own (the `intervalSeconds` ending at `atSecond`), not running totals. */
    timeline: z.array(z.object({ atSecond: z.number(), arrived: atLeastZero })),
  }),
  waitingRoom: z.object({
    fansArrived: atLeastZero,
    joins: atLeastZero,
    far: fanTime,
    near: fanTime,
    edge: z.object({ requests: atLeastZero, hits: atLeastZero, hitRatio: atLeastZero }),
    /** ticket-service's access-token checks, by how; runs before 2026-12-07 did not count them. */
    tokenChecks: z.object({ signature: atLeastZero, remembered: atLeastZero }).optional(),
  }),
});
export type RunReportFigures = z.infer<typeof runReportShape>;
