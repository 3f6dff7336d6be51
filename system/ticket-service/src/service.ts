import { join } from 'node:path';
import {
  accessTokenVerifier,
  createHttpApp,
  fixedWindowCounter,
  type Logger,
  listen,
  type RunningServer,
  remoteKeySet,
  sagaServiceBase,
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
  const base = sagaServiceBase(SERVICE_NAME, config);
  const { logger, pool, sagaPool, metrics, tracer, relay } = base;
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
  const redis = new Redis(config.REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS,
  });
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
    slotMs: config.ADMISSION_TTL_SECONDS * 1000,
  });
  const holdExpiry = new HoldExpiry(sagaPool, logger, tracer, config.HOLD_EXPIRY_INTERVAL_MS, (n) => {
    stages.inc({ stage: 'expired' }, n);
    relay.wake();
  });
  const consumer = base.consumer({
    groupId: config.KAFKA_GROUP_ID,
    handlers: ticketSagaHandlers((stage, seconds) => {
      stages.inc({ stage });
      stageSeconds.observe({ stage }, seconds);
    }),
  });
  let server: RunningServer | undefined;

  return {
    logger,
    holdExpiry,
    ticker,
    async start() {
      await redis.connect();
      await base.prepare(join(import.meta.dirname, '..', 'migrations'));
      const reservations = reservationUseCases(pool, () => relay.wake());
      const verify = accessTokenVerifier(remoteKeySet(config.ACCOUNT_JWKS_URL));
      const app = createHttpApp({
        service: SERVICE_NAME,
        logger,
        metrics,
        tracer,
        bodyLimit: config.HTTP_BODY_LIMIT,
        openapi: ticketOpenApi(),
        trustProxy: config.TRUST_PROXY,
        isDraining: base.isDraining,
        readinessChecks: [
          ...base.readinessChecks,
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
      base.startWorkers();
      holdExpiry.start();
      ticker.start();
      await consumer.start();
      logger.info({ url: server.url }, 'ticket-service listening');
      return server;
    },
    async stop() {
      await shutdown(
        [
          ...base.drainSteps(),
          { name: 'http', run: async () => server?.close(config.SHUTDOWN_GRACE_MS) },
          { name: 'consumer', run: () => consumer.stop() },
          { name: 'hold expiry', run: () => holdExpiry.stop() },
          { name: 'admission ticker', run: () => ticker.stop() },
          { name: 'redis', run: async () => void (await redis.quit()) },
          ...base.closeSteps(),
        ],
        config.SHUTDOWN_GRACE_MS,
        logger,
      );
    },
  };
}
