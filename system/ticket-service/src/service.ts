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
  fixedWindowCounter,
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
import { Redis } from 'ioredis';
import { Counter, Histogram } from 'prom-client';
import type { TicketConfig } from './config.ts';
import { eventCatalog } from './event-catalog.ts';
import { HoldExpiry } from './hold-expiry.ts';
import { ticketOpenApi } from './http/openapi.ts';
import { queueRoutes } from './http/queue-routes.ts';
import { ticketRoutes } from './http/routes.ts';
import { ticketSagaHandlers } from './messaging/saga-handlers.ts';
import { reservationUseCases } from './reservations.ts';
import { SeatMapCache } from './seat-map-cache.ts';
import { AdmissionTicker } from './waiting-room/admission-ticker.ts';
import { admissionTokens } from './waiting-room/admission-token.ts';
import { queueStore } from './waiting-room/queue-store.ts';
import { waitingRoom } from './waiting-room/waiting-room.ts';

export const SERVICE_NAME = 'ticket-service';

export interface TicketService {
  logger: Logger;
  holdExpiry: HoldExpiry;
  ticker: AdmissionTicker;
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
  const stageSeconds = new Histogram({
    name: 'saga_stage_duration_seconds',
    help: 'From the reservation to the saga reaching a stage (confirmed, compensated, refunded, late-payment)',
    labelNames: ['stage'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120],
    registers: [metrics.registry],
  });
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  redis.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));
  const store = queueStore(redis, config.REDIS_KEY_PREFIX);
  const ticker = new AdmissionTicker({
    store,
    pool: sagaPool,
    logger,
    metrics,
    tickMs: config.QUEUE_TICK_MS,
    graceMs: config.QUEUE_HEARTBEAT_GRACE_SECONDS * 1000,
    slotMs: config.ADMISSION_TTL_SECONDS * 1000,
  });
  const room = waitingRoom({
    pool,
    store,
    ticker,
    tokens: admissionTokens(config.ADMISSION_TOKEN_SECRET),
    countJoin: (...keys) =>
      fixedWindowCounter(redis, 60)(...keys.map((k) => `${config.REDIS_KEY_PREFIX}${k}`)),
    joinLimitPerUser: config.QUEUE_JOIN_LIMIT_PER_USER,
    joinLimitPerIp: config.QUEUE_JOIN_LIMIT_PER_IP,
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
    handlers: ticketSagaHandlers((stage, seconds) => {
      stages.inc({ stage });
      stageSeconds.observe({ stage }, seconds);
    }),
    onCommitted: () => relay.wake(),
  });
  let server: RunningServer | undefined;

  return {
    logger,
    holdExpiry,
    ticker,
    async start() {
      await redis.connect();
      await runMigrations(pool, KIT_MIGRATIONS_DIR, logger, 'kit_schema_migrations');
      await runMigrations(pool, join(import.meta.dirname, '..', 'migrations'), logger);
      await ensureTopics(
        config.KAFKA_BROKERS,
        Object.values(TOPICS),
        SERVICE_NAME,
        config.KAFKA_TOPIC_PREFIX,
      );
      const reservations = reservationUseCases(pool, () => relay.wake());
      const verify = accessTokenVerifier(remoteKeySet(config.ACCOUNT_JWKS_URL));
      const app = createHttpApp({
        service: SERVICE_NAME,
        logger,
        metrics,
        bodyLimit: config.HTTP_BODY_LIMIT,
        openapi: ticketOpenApi(),
        trustProxy: config.TRUST_PROXY,
        readinessChecks: [
          { name: 'postgres', check: async () => void (await pool.query('SELECT 1')) },
          { name: 'redis', check: async () => void (await redis.ping()) },
        ],
        routes: (app) => {
          queueRoutes({ verify, room, ticker })(app);
          ticketRoutes({
            verify,
            catalog: eventCatalog(pool, async (eventId, request) => {
              await store.configure(eventId, { ...request.queue!, salesOpenAt: request.salesOpenAt });
              ticker.watch(eventId);
            }),
            room,
            reservations: {
              ...reservations,
              reserve: async (...args) => {
                const result = await reservations.reserve(...args);
                if (!result.replayed) stages.inc({ stage: 'created' });
                return result;
              },
            },
            seatMaps: new SeatMapCache(pool, config.SEAT_MAP_CACHE_MS),
          })(app);
        },
      });
      server = await listen(app, config.HOST, config.PORT);
      relay.start();
      holdExpiry.start();
      ticker.start();
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
          { name: 'admission ticker', run: () => ticker.stop() },
          { name: 'outbox relay', run: () => relay.stop() },
          { name: 'kafka producer', run: () => producer.close() },
          { name: 'redis', run: async () => void (await redis.quit()) },
          { name: 'postgres', run: async () => void (await Promise.all([pool.end(), sagaPool.end()])) },
        ],
        config.SHUTDOWN_GRACE_MS,
        logger,
      );
    },
  };
}
