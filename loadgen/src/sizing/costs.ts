import { RESERVATION_SAGA } from '@reservex/contracts';
import { type Figure, figure, type ReportSource, ratio, SizingInputError } from './figure.ts';
import type { LoadFactor } from './load-factor.ts';
import type { BenchQueueReport, BenchSagaReport } from './report-shapes.ts';

/** A replicated service of the saga: what it costs per unit of work and idle, measured on this machine. */
export interface ServiceCosts {
  /** CPU seconds per reservation made (declined payments included), from bench:saga's saturation phase. */
  cpuSecondsPerBooking: Figure;
  /** Cores one process uses while nothing is offered: timers, relays, consumers' polls. */
  idleCoresPerProcess: Figure;
  /** What a booking costs a replica below saturation, against `cpuSecondsPerBooking` (a saturated one's). */
  loadFactor: LoadFactor;
}

export interface TopicCosts {
  topic: string;
  /** The service whose consumers read it: each of its replicas needs a partition of its own to do any work. */
  consumer: 'ticket-service' | 'payment-service' | null;
  messagesPerBooking: Figure;
  /** Messages a second one partition carried while the saga ran at saturation here: a floor, the CPU was the limit. */
  messagesPerPartitionSecond: Figure;
}

/** What one unit of each component costs or carries on this machine, each with the report it came from. */
export interface Costs {
  sources: ReportSource[];
  ticketService: ServiceCosts & {
    /** Joins a second one process serves: one replica's worth, its one core busy. */
    joinsPerReplicaSecond: Figure;
    /** A fan's own place (near the front) a second, one process. */
    placeReadsPerReplicaSecond: Figure;
    /** The shared status a second straight from one process: what edge misses cost the origin. */
    statusReadsPerReplicaSecond: Figure;
    /** An access token's signature checked once more, on a replica the fan had not reached before. */
    cpuSecondsPerTokenCheck: Figure;
  };
  paymentService: ServiceCosts;
  paymentProvider: ServiceCosts;
  accountService: {
    /** A sign-in at production's password cost: account-service's CPU as measured, its hash priced at production's. */
    cpuSecondsPerSignIn: Figure;
    idleCoresPerProcess: Figure;
  };
  postgres: {
    /** CPU seconds of the sessions serving each service's database, per reservation (account: per sign-in). */
    ticketPerBooking: Figure;
    paymentPerBooking: Figure;
    accountPerSignIn: Figure;
    /** Statements per reservation in each database; null where pg_stat_statements was not loaded. */
    ticketStatementsPerBooking: Figure | null;
    paymentStatementsPerBooking: Figure | null;
  };
  redis: {
    commandsPerJoin: Figure;
    /** A queue's commands a second while its crowd waits, whatever the crowd's size. */
    commandsPerQueueSecond: Figure;
    commandsPerBooking: Figure;
    /** One shard's ceiling for the join script, and for plain commands. */
    joinScriptsPerShardSecond: Figure;
    commandsPerShardSecond: Figure;
  };
  kafka: TopicCosts[];
  edge: {
    /** The shared status a second through one edge cache on this machine. */
    statusPerNodeSecond: Figure;
  };
}

export interface Measured<R> {
  report: R;
  source: ReportSource;
}

/** The service that consumes a saga topic, from the saga's own table (system/contracts). */
function consumerOf(topic: string): TopicCosts['consumer'] {
  for (const step of RESERVATION_SAGA) {
    if ((step.triggers as readonly string[]).includes(topic)) return step.participant;
    if (step.compensation && (step.compensation.triggers as readonly string[]).includes(topic))
      return step.compensation.participant;
  }
  return null;
}

function idleOf(saga: BenchSagaReport, component: string, file: string): Figure {
  const idle = saga.idle.components[component];
  if (idle === undefined || idle.processes === 0)
    throw new SizingInputError(
      `${file} has no idle figure for ${component} (idle.components): run npm run bench:saga again with the stack it starts`,
    );
  return figure(idle.cores / idle.processes, `${file} idle.components.${component} (cores ÷ processes)`);
}

function sagaLoadFactor(
  saga: BenchSagaReport,
  service: keyof BenchSagaReport['loadFactor'],
  bookedPerSecond: Figure,
  file: string,
): LoadFactor {
  return {
    points: saga.loadFactor[service],
    saturatedPerSecond: bookedPerSecond,
    from: `${file} loadFactor.${service}`,
  };
}

/** The per-unit costs and capacities, from bench:queue's and bench:saga's reports. */
export function costsFrom(queue: Measured<BenchQueueReport>, saga: Measured<BenchSagaReport>): Costs {
  const q = queue.report;
  const s = saga.report;
  const qf = queue.source.file;
  const sf = saga.source.file;
  const perBooking = s.saturation.cpuSecondsPerBooking;
  const postgres = s.saturation.postgresCpuSecondsPerBooking;
  const statements = s.saturation.statementsPerBookingByService;
  const hash = s.signIn.passwordHash;
  // bench:saga's rates are of confirmations; its per-booking figures are per reservation made.
  const bookedPerSecond = figure(
    (s.saturation.confirmedPerSecond * s.saturation.booked) / s.saturation.confirmed,
    `${sf} saturation.confirmedPerSecond × booked ÷ confirmed`,
  );
  const kafka = Object.entries(s.saturation.kafkaTopics).map(([topic, t]) => ({
    topic,
    consumer: consumerOf(topic),
    messagesPerBooking: figure(
      t.messagesPerBooking,
      `${sf} saturation.kafkaTopics.${topic}.messagesPerBooking`,
    ),
    messagesPerPartitionSecond: figure(
      (t.messagesPerBooking * bookedPerSecond.value) / t.partitions,
      `${sf} saturation.kafkaTopics.${topic}: messagesPerBooking × reservations/s at saturation ÷ ${t.partitions} partitions`,
    ),
  }));
  if (kafka.length === 0) throw new SizingInputError(`${sf} counted no Kafka topic (saturation.kafkaTopics)`);
  return {
    sources: [queue.source, saga.source],
    ticketService: {
      joinsPerReplicaSecond: figure(q.joinsPerSecond, `${qf} joinsPerSecond`),
      placeReadsPerReplicaSecond: figure(q.reads.requestsPerSecond, `${qf} reads.requestsPerSecond`),
      statusReadsPerReplicaSecond: figure(q.edge.originStatusPerSecond, `${qf} edge.originStatusPerSecond`),
      cpuSecondsPerTokenCheck: figure(q.tokenCheckSeconds, `${qf} tokenCheckSeconds`),
      loadFactor: sagaLoadFactor(s, 'ticket-service', bookedPerSecond, sf),
      cpuSecondsPerBooking: figure(
        perBooking['ticket-service'],
        `${sf} saturation.cpuSecondsPerBooking.ticket-service`,
      ),
      idleCoresPerProcess: figure(q.idleCores, `${qf} idleCores`),
    },
    paymentService: {
      cpuSecondsPerBooking: figure(
        perBooking['payment-service'],
        `${sf} saturation.cpuSecondsPerBooking.payment-service`,
      ),
      idleCoresPerProcess: idleOf(s, 'payment-service', sf),
      loadFactor: sagaLoadFactor(s, 'payment-service', bookedPerSecond, sf),
    },
    paymentProvider: {
      cpuSecondsPerBooking: figure(
        perBooking['payment-provider'],
        `${sf} saturation.cpuSecondsPerBooking.payment-provider`,
      ),
      idleCoresPerProcess: idleOf(s, 'payment-provider', sf),
      loadFactor: sagaLoadFactor(s, 'payment-provider', bookedPerSecond, sf),
    },
    accountService: {
      cpuSecondsPerSignIn: figure(
        s.signIn.cpuSecondsPerSignIn['account-service'] -
          hash.asMeasured.cpuSeconds +
          hash.production.cpuSeconds,
        `${sf} signIn: account-service's CPU per sign-in, its 2^${hash.asMeasured.log2N} password hash swapped for one at 2^${hash.production.log2N}`,
      ),
      idleCoresPerProcess: idleOf(s, 'account-service', sf),
    },
    postgres: {
      ticketPerBooking: figure(
        postgres['ticket-service'],
        `${sf} saturation.postgresCpuSecondsPerBooking.ticket-service`,
      ),
      paymentPerBooking: figure(
        postgres['payment-service'],
        `${sf} saturation.postgresCpuSecondsPerBooking.payment-service`,
      ),
      accountPerSignIn: figure(
        s.signIn.cpuSecondsPerSignIn.postgres,
        `${sf} signIn.cpuSecondsPerSignIn.postgres`,
      ),
      ticketStatementsPerBooking:
        statements === null
          ? null
          : figure(
              statements['ticket-service'],
              `${sf} saturation.statementsPerBookingByService.ticket-service`,
            ),
      paymentStatementsPerBooking:
        statements === null
          ? null
          : figure(
              statements['payment-service'],
              `${sf} saturation.statementsPerBookingByService.payment-service`,
            ),
    },
    redis: {
      commandsPerJoin: figure(q.redis.perJoin, `${qf} redis.perJoin`),
      commandsPerQueueSecond: figure(q.redis.perQueueSecond, `${qf} redis.perQueueSecond`),
      commandsPerBooking: figure(
        s.saturation.redisCommandsPerBooking,
        `${sf} saturation.redisCommandsPerBooking`,
      ),
      joinScriptsPerShardSecond: figure(
        q.redisBenchmark.joinScriptPerSecond,
        `${qf} redisBenchmark.joinScriptPerSecond`,
      ),
      commandsPerShardSecond: figure(q.redisBenchmark.getPerSecond, `${qf} redisBenchmark.getPerSecond`),
    },
    kafka,
    edge: { statusPerNodeSecond: figure(q.edge.statusPerSecond, `${qf} edge.statusPerSecond`) },
  };
}

/** Seconds of one core a unit of work costs, when what was measured is how many units one replica serves a second. */
export const coreSecondsPer = (perReplicaSecond: Figure): Figure =>
  ratio(figure(1, 'one busy core'), perReplicaSecond, `1 ÷ ${perReplicaSecond.from}`);
