import { join } from 'node:path';
import { TOPICS } from '@reservex/contracts';
import {
  accessTokenVerifier,
  createHttpApp,
  createLogger,
  createPool,
  createProducer,
  createServiceMetrics,
  EventConsumer,
  ensureTopics,
  KIT_MIGRATIONS_DIR,
  type Logger,
  listen,
  OutboxRelay,
  observePgPool,
  type RunningServer,
  remoteKeySet,
  runMigrations,
  shutdown,
} from '@reservex/kit';
import { Counter, Histogram } from 'prom-client';
import type { PaymentConfig } from './config.ts';
import type { FaultProfile } from './domain/fault-profile.ts';
import { simulatedGateway } from './gateway/simulated-gateway.ts';
import { paymentOpenApi } from './http/openapi.ts';
import { paymentRoutes } from './http/routes.ts';
import { paymentSagaHandlers } from './messaging/saga-handlers.ts';
import { PaymentProcessor } from './payment-processor.ts';

export const SERVICE_NAME = 'payment-service';

export interface PaymentService {
  logger: Logger;
  start(): Promise<RunningServer>;
  stop(): Promise<void>;
}

export function createPaymentService(config: PaymentConfig): PaymentService {
  const logger = createLogger(SERVICE_NAME, config.LOG_LEVEL);
  const pool = createPool(config.DATABASE_URL, config.DATABASE_POOL_MAX, logger);
  // A bulkhead: the saga (consumer, relay, sweeps) has connections of its own, so a flood of HTTP requests
  // queueing for the main pool cannot stall confirmations and compensations behind it.
  const sagaPool = createPool(config.DATABASE_URL, config.SAGA_POOL_MAX, logger);
  const metrics = createServiceMetrics(SERVICE_NAME);
  observePgPool(metrics, pool);
  observePgPool(metrics, sagaPool, 'saga');
  const outcomes = new Counter({
    name: 'payment_gateway_outcomes_total',
    help: 'Gateway charge outcomes: captured, a decline reason, or timeout',
    labelNames: ['outcome'] as const,
    registers: [metrics.registry],
  });
  const latency = new Histogram({
    name: 'payment_gateway_latency_seconds',
    help: 'Time the gateway took to answer a charge',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [metrics.registry],
  });
  let faults: FaultProfile = {
    failureRate: config.GATEWAY_FAILURE_RATE,
    timeoutRate: config.GATEWAY_TIMEOUT_RATE,
    latencyMs: { min: config.GATEWAY_LATENCY_MIN_MS, max: config.GATEWAY_LATENCY_MAX_MS },
  };
  const producer = createProducer(config.KAFKA_BROKERS, SERVICE_NAME);
  const relay = new OutboxRelay({
    pool: sagaPool,
    producer,
    logger,
    metrics,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
  });
  const gateway = simulatedGateway(pool, () => faults, config.GATEWAY_TIMEOUT_MS);
  const leaseSeconds =
    Math.ceil((Math.max(config.GATEWAY_LATENCY_MAX_MS, config.GATEWAY_TIMEOUT_MS) * 2) / 1000) + 5;
  const processor = new PaymentProcessor({
    pool: sagaPool,
    gateway,
    logger,
    concurrency: config.PAYMENT_CONCURRENCY,
    leaseSeconds,
    idleMs: 250,
    onOutcome: (outcome, seconds) => {
      outcomes.inc({ outcome });
      latency.observe(seconds);
    },
    onCommitted: () => relay.wake(),
  });
  const consumer = new EventConsumer({
    groupId: config.KAFKA_GROUP_ID,
    clientId: SERVICE_NAME,
    brokers: config.KAFKA_BROKERS,
    pool: sagaPool,
    producer,
    logger,
    metrics,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    handlers: paymentSagaHandlers(() => processor.wake()),
    onCommitted: () => relay.wake(),
    afterDatabaseCommit:
      config.FAULT_CRASH_AFTER_DB_COMMIT === 'true'
        ? () => {
            logger.warn('FAULT_CRASH_AFTER_DB_COMMIT: exiting before the offset commit');
            process.exit(137);
          }
        : undefined,
  });
  let server: RunningServer | undefined;

  return {
    logger,
    async start() {
      await runMigrations(pool, KIT_MIGRATIONS_DIR, logger, 'kit_schema_migrations');
      await runMigrations(pool, join(import.meta.dirname, '..', 'migrations'), logger);
      await ensureTopics(
        config.KAFKA_BROKERS,
        Object.values(TOPICS),
        SERVICE_NAME,
        config.KAFKA_TOPIC_PREFIX,
      );
      const verify = accessTokenVerifier(remoteKeySet(config.ACCOUNT_JWKS_URL));
      const app = createHttpApp({
        service: SERVICE_NAME,
        logger,
        metrics,
        bodyLimit: config.HTTP_BODY_LIMIT,
        openapi: paymentOpenApi(),
        readinessChecks: [{ name: 'postgres', check: async () => void (await pool.query('SELECT 1')) }],
        routes: paymentRoutes(pool, verify, {
          get: () => faults,
          set: (profile) => {
            faults = profile;
          },
        }),
      });
      server = await listen(app, config.HOST, config.PORT);
      relay.start();
      processor.start();
      await consumer.start();
      logger.info({ url: server.url }, 'payment-service listening');
      return server;
    },
    async stop() {
      await shutdown(
        [
          { name: 'http', run: async () => server?.close(config.SHUTDOWN_GRACE_MS) },
          { name: 'consumer', run: () => consumer.stop() },
          { name: 'processor', run: () => processor.stop() },
          { name: 'outbox relay', run: () => relay.stop() },
          { name: 'kafka producer', run: () => producer.close() },
          { name: 'postgres', run: async () => void (await Promise.all([pool.end(), sagaPool.end()])) },
        ],
        config.SHUTDOWN_GRACE_MS,
        logger,
      );
    },
  };
}
