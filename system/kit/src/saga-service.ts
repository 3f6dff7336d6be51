import { TOPICS } from '@reservex/contracts';
import { z } from 'zod';
import { BackgroundLoop } from './background-loop.ts';
import { retryUntilDone } from './backoff.ts';
import { baseConfigSchema } from './config.ts';
import { createPool, type Pool } from './db.ts';
import type { ReadinessCheck } from './health.ts';
import { createProducer, ensureTopics, type StringProducer } from './kafka.ts';
import { createLogger, type Logger } from './logger.ts';
import { MessageConsumer, type MessageHandler } from './message-consumer.ts';
import { createServiceMetrics, observePgPool, type ServiceMetrics } from './metrics.ts';
import { KIT_MIGRATIONS_DIR, runMigrations } from './migrations.ts';
import { OutboxRelay, pruneMessaging } from './outbox.ts';
import { drainDelay, type ShutdownStep } from './shutdown.ts';
import { createTracing, type Tracer } from './tracing.ts';

/** What every service taking part in the saga reads, besides the base variables. */
export const sagaConfigSchema = baseConfigSchema.extend({
  /**
   * Published outbox rows and processed message ids are deleted after this long: longer than any run and its
   * check, so the evidence the invariant checker reads is still there (7 days by default).
   */
  MESSAGING_RETENTION_SECONDS: z.coerce
    .number()
    .int()
    .min(3600)
    .default(7 * 86_400),
});

export type BaseConfig = z.infer<typeof sagaConfigSchema>;

/** What every service that takes part in the saga is built on: pools, metrics, tracing, outbox and Kafka. */
export interface SagaServiceBase {
  logger: Logger;
  /** For HTTP requests. */
  pool: Pool;
  /** For the saga machinery (consumer, relay, sweeps). */
  sagaPool: Pool;
  metrics: ServiceMetrics;
  tracer: Tracer;
  producer: StringProducer;
  relay: OutboxRelay;
  consumer(options: {
    groupId: string;
    handlers: MessageHandler[];
    exitAfterDatabaseCommit?: boolean;
  }): MessageConsumer;
  /** PostgreSQL and Kafka (the broker, and this service's consumer), for /actuator/health. */
  readinessChecks: ReadinessCheck[];
  /** True from the moment shutdown begins. */
  isDraining(): boolean;
  /**
   * Kit migrations, then the service's own, then the topics: what the workers need before they start. Retried with
   * backoff until PostgreSQL and Kafka answer, however long that takes; readiness says DOWN until it is done.
   */
  prepare(migrationsDir: string): Promise<void>;
  /** Background work of the base itself (relay, pruning), once the service listens. */
  startWorkers(): void;
  /** The first shutdown steps: readiness says DOWN, then waits for load balancers to notice. */
  drainSteps(): ShutdownStep[];
  /** The last shutdown steps, after HTTP, the consumer and the service's own workers have stopped. */
  closeSteps(): ShutdownStep[];
}

export function sagaServiceBase(service: string, config: BaseConfig): SagaServiceBase {
  const logger = createLogger(service, config.LOG_LEVEL);
  const pool = createPool(config.DATABASE_URL, config.DATABASE_POOL_MAX, logger);
  // A bulkhead: the saga has connections of its own, so a flood of HTTP requests queueing for the main pool
  // cannot stall confirmations and compensations behind it.
  const sagaPool = createPool(config.DATABASE_URL, config.SAGA_POOL_MAX, logger);
  const metrics = createServiceMetrics(service);
  observePgPool(metrics, pool);
  observePgPool(metrics, sagaPool, 'saga');
  const tracing = createTracing(service, config);
  const producer = createProducer(config.KAFKA_BROKERS, service);
  const relay = new OutboxRelay({
    pool: sagaPool,
    producer,
    logger,
    metrics,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
  });
  const pruning = new BackgroundLoop({
    name: 'messaging pruning',
    logger,
    idleMs: 3600_000,
    backoff: { initialMs: 60_000, maxMs: 3600_000 },
    pass: async () => {
      const pruned = await pruneMessaging(sagaPool, { retentionSeconds: config.MESSAGING_RETENTION_SECONDS });
      if (pruned.outbox + pruned.processed > 0)
        logger.info({ pruned }, 'pruned old outbox rows and processed message ids');
      return 'idle';
    },
  });
  const consumers: MessageConsumer[] = [];
  let draining = false;
  let prepared = false;
  const stopping = new AbortController();
  return {
    logger,
    pool,
    sagaPool,
    metrics,
    tracer: tracing.tracer,
    producer,
    relay,
    consumer: (options) => {
      const consumer = new MessageConsumer({
        ...options,
        clientId: service,
        brokers: config.KAFKA_BROKERS,
        pool: sagaPool,
        producer,
        logger,
        metrics,
        tracer: tracing.tracer,
        topicPrefix: config.KAFKA_TOPIC_PREFIX,
        relay,
      });
      consumers.push(consumer);
      return consumer;
    },
    readinessChecks: [
      {
        name: 'startup',
        check: async () => {
          if (!prepared)
            throw new Error('migrations and topics not ready yet: waiting for PostgreSQL and Kafka');
        },
      },
      { name: 'postgres', check: async () => void (await pool.query('SELECT 1')) },
      {
        name: 'kafka',
        check: async () => {
          // The broker answers (the producer's connection), and this service's consumer is consuming.
          await producer.metadata({ topics: [], forceUpdate: true, retries: 0 });
          let lag = 0;
          for (const consumer of consumers) {
            const health = await consumer.health();
            if (health.status !== 'UP') throw new Error(`consumer ${health.state}: ${health.detail ?? ''}`);
            lag += health.lag ?? 0;
          }
          return { lag };
        },
      },
    ],
    isDraining: () => draining,
    async prepare(migrationsDir) {
      await retryUntilDone(
        async () => {
          await runMigrations(pool, KIT_MIGRATIONS_DIR, logger, 'kit_schema_migrations');
          await runMigrations(pool, migrationsDir, logger);
          await ensureTopics(config.KAFKA_BROKERS, Object.values(TOPICS), service, config.KAFKA_TOPIC_PREFIX);
        },
        {
          what: 'start-up',
          signal: stopping.signal,
          onFailure: (error, attempt) => {
            if (attempt === 1 || attempt % 10 === 0)
              logger.warn({ err: error, attempt }, 'start-up waits for PostgreSQL and Kafka');
          },
        },
      );
      prepared = true;
    },
    startWorkers() {
      relay.start();
      pruning.start();
    },
    drainSteps: () => [
      {
        name: 'drain',
        run: async () => {
          draining = true;
          stopping.abort();
          await drainDelay(config.SHUTDOWN_DRAIN_DELAY_MS);
        },
      },
    ],
    closeSteps: () => [
      { name: 'outbox relay', run: () => relay.stop() },
      { name: 'messaging pruning', run: () => pruning.stop() },
      { name: 'kafka producer', run: () => producer.close() },
      { name: 'postgres', run: async () => void (await Promise.all([pool.end(), sagaPool.end()])) },
      { name: 'tracing', run: () => tracing.shutdown() },
    ],
  };
}
