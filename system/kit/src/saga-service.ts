import { type Envelope, TOPICS } from '@reservex/contracts';
import type { z } from 'zod';
import type { baseConfigSchema } from './config.ts';
import { createPool, type Pool } from './db.ts';
import { EventConsumer, type EventHandler } from './event-consumer.ts';
import { createProducer, ensureTopics, type StringProducer } from './kafka.ts';
import { createLogger, type Logger } from './logger.ts';
import { createServiceMetrics, observePgPool, type ServiceMetrics } from './metrics.ts';
import { KIT_MIGRATIONS_DIR, runMigrations } from './migrations.ts';
import { OutboxRelay } from './outbox.ts';
import type { ShutdownStep } from './shutdown.ts';
import { createTracing, type Tracer } from './tracing.ts';

export type BaseConfig = z.infer<typeof baseConfigSchema>;

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
    handlers: EventHandler[];
    afterDatabaseCommit?: (event: Envelope) => void;
  }): EventConsumer;
  /** Kit migrations, then the service's own, then the topics: everything start() needs before it listens. */
  prepare(migrationsDir: string): Promise<void>;
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
  return {
    logger,
    pool,
    sagaPool,
    metrics,
    tracer: tracing.tracer,
    producer,
    relay,
    consumer: (options) =>
      new EventConsumer({
        ...options,
        clientId: service,
        brokers: config.KAFKA_BROKERS,
        pool: sagaPool,
        producer,
        logger,
        metrics,
        tracer: tracing.tracer,
        topicPrefix: config.KAFKA_TOPIC_PREFIX,
        onCommitted: () => relay.wake(),
      }),
    async prepare(migrationsDir) {
      await runMigrations(pool, KIT_MIGRATIONS_DIR, logger, 'kit_schema_migrations');
      await runMigrations(pool, migrationsDir, logger);
      await ensureTopics(config.KAFKA_BROKERS, Object.values(TOPICS), service, config.KAFKA_TOPIC_PREFIX);
    },
    closeSteps: () => [
      { name: 'outbox relay', run: () => relay.stop() },
      { name: 'kafka producer', run: () => producer.close() },
      { name: 'postgres', run: async () => void (await Promise.all([pool.end(), sagaPool.end()])) },
      { name: 'tracing', run: () => tracing.shutdown() },
    ],
  };
}
