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
import { Counter } from 'prom-client';
import type { TicketConfig } from './config.ts';
import { eventCatalog } from './event-catalog.ts';
import { HoldExpiry } from './hold-expiry.ts';
import { ticketOpenApi } from './http/openapi.ts';
import { ticketRoutes } from './http/routes.ts';
import { ticketSagaHandlers } from './messaging/saga-handlers.ts';
import { reservationUseCases } from './reservations.ts';
import { SeatMapCache } from './seat-map-cache.ts';

export const SERVICE_NAME = 'ticket-service';

export interface TicketService {
  logger: Logger;
  holdExpiry: HoldExpiry;
  start(): Promise<RunningServer>;
  stop(): Promise<void>;
}

export function createTicketService(config: TicketConfig): TicketService {
  const logger = createLogger(SERVICE_NAME, config.LOG_LEVEL);
  const pool = createPool(config.DATABASE_URL, config.DATABASE_POOL_MAX, logger);
  // A bulkhead: the saga (consumer, relay, sweeps) has connections of its own, so a flood of HTTP requests
  // queueing for the main pool cannot stall confirmations and compensations behind it.
  const sagaPool = createPool(config.DATABASE_URL, config.SAGA_POOL_MAX, logger);
  const metrics = createServiceMetrics(SERVICE_NAME);
  observePgPool(metrics, pool);
  observePgPool(metrics, sagaPool, 'saga');
  const stages = new Counter({
    name: 'saga_stage_total',
    help: 'Reservation saga stages reached: created, confirmed, compensated, expired, cancelled, refunded, late-payment',
    labelNames: ['stage'] as const,
    registers: [metrics.registry],
  });
  const producer = createProducer(config.KAFKA_BROKERS, SERVICE_NAME);
  const relay = new OutboxRelay({
    pool: sagaPool,
    producer,
    logger,
    metrics,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
  });
  const holdExpiry = new HoldExpiry(sagaPool, logger, config.HOLD_EXPIRY_INTERVAL_MS, (n) => {
    stages.inc({ stage: 'expired' }, n);
    relay.wake();
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
    handlers: ticketSagaHandlers((stage) => stages.inc({ stage })),
    onCommitted: () => relay.wake(),
  });
  let server: RunningServer | undefined;

  return {
    logger,
    holdExpiry,
    async start() {
      await runMigrations(pool, KIT_MIGRATIONS_DIR, logger, 'kit_schema_migrations');
      await runMigrations(pool, join(import.meta.dirname, '..', 'migrations'), logger);
      await ensureTopics(
        config.KAFKA_BROKERS,
        Object.values(TOPICS),
        SERVICE_NAME,
        config.KAFKA_TOPIC_PREFIX,
      );
      const reservations = reservationUseCases(pool, () => relay.wake());
      const app = createHttpApp({
        service: SERVICE_NAME,
        logger,
        metrics,
        bodyLimit: config.HTTP_BODY_LIMIT,
        openapi: ticketOpenApi(),
        readinessChecks: [{ name: 'postgres', check: async () => void (await pool.query('SELECT 1')) }],
        routes: ticketRoutes({
          verify: accessTokenVerifier(remoteKeySet(config.ACCOUNT_JWKS_URL)),
          catalog: eventCatalog(pool),
          reservations: {
            ...reservations,
            reserve: async (...args) => {
              const result = await reservations.reserve(...args);
              if (!result.replayed) stages.inc({ stage: 'created' });
              return result;
            },
          },
          seatMaps: new SeatMapCache(pool, config.SEAT_MAP_CACHE_MS),
        }),
      });
      server = await listen(app, config.HOST, config.PORT);
      relay.start();
      holdExpiry.start();
      await consumer.start();
      logger.info({ url: server.url }, 'ticket-service listening');
      return server;
    },
    async stop() {
      await shutdown(
        [
          { name: 'http', run: async () => server?.close(config.SHUTDOWN_GRACE_MS) },
          { name: 'consumer', run: () => consumer.stop() },
          { name: 'hold expiry', run: () => holdExpiry.stop() },
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
