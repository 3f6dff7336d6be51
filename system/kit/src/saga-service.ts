import { TOPICS } from '@reservex/contracts';
import type { Express } from 'express';
import { z } from 'zod';
import { BackgroundLoop } from './background-loop.ts';
import { baseConfigSchema } from './config.ts';
import type { Pool } from './db.ts';
import type { RunningServer } from './http-server.ts';
import { createProducer, ensureTopics, type StringProducer } from './kafka.ts';
import { MessageConsumer, type MessageHandler } from './message-consumer.ts';
import { KIT_MIGRATIONS_DIR, runMigrations } from './migrations.ts';
import { OutboxRelay, pruneMessaging } from './outbox.ts';
import { type ServiceBase, type Startable, serviceBase } from './service-base.ts';
import type { ShutdownStep } from './shutdown.ts';

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

export type SagaConfig = z.infer<typeof sagaConfigSchema> & { PORT: number };

/** What every service that takes part in the saga is built on: the service base, and the saga's outbox and Kafka. */
export interface SagaServiceBase extends Omit<ServiceBase, 'start'> {
  /** For the saga machinery (consumer, relay, sweeps); `pool` is for HTTP requests. */
  sagaPool: Pool;
  producer: StringProducer;
  relay: OutboxRelay;
  consumer(options: {
    groupId: string;
    handlers: MessageHandler[];
    exitAfterDatabaseCommit?: boolean;
  }): MessageConsumer;
  /**
   * Listens, then runs the kit's migrations, the service's own (in `migrationsDir`) and creates the topics, then
   * starts the relay and the pruning, then what `startables` lists, in order. Readiness also asks Kafka: the broker
   * answers, and this service's consumers consume.
   */
  start(app: Express, migrationsDir: string, startables: readonly Startable[]): Promise<RunningServer>;
  /** As the base's, with the relay, the pruning and the producer stopped before PostgreSQL closes. */
  stop(steps: readonly ShutdownStep[]): Promise<void>;
}

export function sagaServiceBase(service: string, config: SagaConfig): SagaServiceBase {
  const base = serviceBase(service, config, {
    notReady: 'migrations and topics not ready yet: waiting for PostgreSQL and Kafka',
    waitsFor: 'PostgreSQL and Kafka',
  });
  const { logger, pool, metrics, tracer } = base;
  // A bulkhead: the saga has connections of its own, so a flood of HTTP requests queueing for the main pool
  // cannot stall confirmations and compensations behind it.
  const sagaPool = base.createPool(config.SAGA_POOL_MAX, 'saga');
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
  const kafka = {
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
  };
  return {
    ...base,
    sagaPool,
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
        tracer,
        topicPrefix: config.KAFKA_TOPIC_PREFIX,
        relay,
      });
      consumers.push(consumer);
      return consumer;
    },
    readinessChecks: [...base.readinessChecks, kafka],
    httpApp: (http) => base.httpApp({ ...http, readinessChecks: [kafka, ...(http.readinessChecks ?? [])] }),
    start: (app, migrationsDir, startables) =>
      base.start(app, async () => {
        await runMigrations(pool, KIT_MIGRATIONS_DIR, logger, 'kit_schema_migrations');
        await runMigrations(pool, migrationsDir, logger);
        await ensureTopics(config.KAFKA_BROKERS, Object.values(TOPICS), service, config.KAFKA_TOPIC_PREFIX);
      }, [relay, pruning, ...startables]),
    stop: (steps) =>
      base.stop([
        ...steps,
        { name: 'outbox relay', run: () => relay.stop() },
        { name: 'messaging pruning', run: () => pruning.stop() },
        { name: 'kafka producer', run: () => producer.close() },
      ]),
  };
}
