import { join } from 'node:path';
import { TOPICS } from '@reservex/contracts';
import {
  accessTokenVerifier,
  ConsumerBacklog,
  countTokenChecks,
  eventLoopPressure,
  type MessageConsumer,
  remoteKeySet,
  type Service,
  sagaServiceBase,
  sheddingFrom,
} from '@reservex/kit';
import { Redis } from 'ioredis';
import type { TicketConfig } from './config.ts';
import { admissionTokens } from './domain/admission-token.ts';
import { lotteryKey } from './domain/queue-lottery.ts';
import { queueTickets } from './domain/queue-ticket.ts';
import { eventRoutes } from './http/event-routes.ts';
import { ticketOpenApi } from './http/operations.ts';
import { queueRoutes } from './http/queue-routes.ts';
import { reservationRoutes } from './http/reservation-routes.ts';
import { reservationSaga } from './messaging/reservation-saga.ts';
import { sagaStages } from './saga-stages.ts';
import { queueStore } from './store/queue-store.ts';
import { redisCommandCounter } from './store/redis-commands.ts';
import { bookSeats } from './use-cases/book-seats.ts';
import { eventUseCases } from './use-cases/events.ts';
import { QueueUpdates } from './use-cases/queue-updates.ts';
import { reservationUseCases } from './use-cases/reservations.ts';
import { SeatMaps } from './use-cases/seat-maps.ts';
import { waitingRoom } from './use-cases/waiting-room.ts';
import { AdmissionController } from './workers/admission-controller.ts';
import { AdmissionTicker } from './workers/admission-ticker.ts';
import { HoldExpiry } from './workers/hold-expiry.ts';

export const SERVICE_NAME = 'ticket-service';
const MIGRATIONS_DIR = join(import.meta.dirname, '..', 'migrations');
const QUEUE_JOIN = /^\/api\/events\/[^/]+\/queue$/;

export interface TicketService extends Service {
  holdExpiry: HoldExpiry;
  /** The saga consumer: tests stall it to show that holds wait for it. */
  consumer: MessageConsumer;
  ticker: AdmissionTicker;
  controller: AdmissionController;
}

/** Wires ticket-service from its configuration: nothing here reads the environment or decides anything. */
export function createTicketService(config: TicketConfig): TicketService {
  const base = sagaServiceBase(SERVICE_NAME, config);
  const { logger, pool, sagaPool, metrics, tracer, relay } = base;
  const stages = sagaStages(metrics);
  const connectRedis = (role: string) => {
    const client = new Redis(config.REDIS_URL, {
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS,
      connectionName: `${SERVICE_NAME}-${role}`,
      // Commands issued in the same tick by many requests go out in one write: one syscall, not one each.
      enableAutoPipelining: true,
    });
    client.on('error', (error) => logger.warn({ err: error, role }, 'redis connection error'));
    return client;
  };
  // Requests and the admission ticker on connections of their own: a connection runs its commands in order, so
  // a tick stalled on a slow or write-blocked Redis would otherwise hold every fan's read up behind it.
  const redis = connectRedis('requests');
  const tickerRedis = connectRedis('ticker');
  const redisCommands = redisCommandCounter(metrics.registry);
  const store = queueStore(redis, config.REDIS_KEY_PREFIX, redisCommands);
  const ticker = new AdmissionTicker({
    store: queueStore(tickerRedis, config.REDIS_KEY_PREFIX, redisCommands),
    pool: sagaPool,
    logger,
    metrics,
    tickMs: config.QUEUE_TICK_MS,
    graceMs: config.QUEUE_HEARTBEAT_GRACE_SECONDS * 1000,
    slotMs: config.ADMISSION_TTL_SECONDS * 1000,
    lotteryKeyOf: (eventId) => lotteryKey(config.ADMISSION_TOKEN_SECRET, eventId),
  });
  const controller = new AdmissionController({
    store: queueStore(tickerRedis, config.REDIS_KEY_PREFIX, redisCommands),
    pool: sagaPool,
    logger,
    metrics,
    periodMs: config.ADMISSION_CONTROL_PERIOD_MS,
    queues: ticker,
  });
  const pressure = eventLoopPressure({ target: config.JOIN_YIELD_UTILISATION });
  const room = waitingRoom({
    pool,
    store,
    ticker,
    tokens: admissionTokens(config.ADMISSION_TOKEN_SECRET),
    tickets: queueTickets(config.ADMISSION_TOKEN_SECRET),
    joinLimitPerUser: config.QUEUE_JOIN_LIMIT_PER_USER,
    joinLimitPerIp: config.QUEUE_JOIN_LIMIT_PER_IP,
    slotMs: config.ADMISSION_TTL_SECONDS * 1000,
    lotterySecret: config.ADMISSION_TOKEN_SECRET,
  });
  // The results that can end a hold, read off the log for the whole group, whichever instance consumes them.
  const results = new ConsumerBacklog({
    brokers: config.KAFKA_BROKERS,
    clientId: SERVICE_NAME,
    groupId: config.KAFKA_GROUP_ID,
    topics: [TOPICS.paymentCompleted, TOPICS.paymentFailed].map((t) => `${config.KAFKA_TOPIC_PREFIX}${t}`),
    logger,
    intervalMs: config.HOLD_EXPIRY_INTERVAL_MS,
  });
  const holdExpiry = new HoldExpiry({
    pool: sagaPool,
    logger,
    tracer,
    intervalMs: config.HOLD_EXPIRY_INTERVAL_MS,
    stages,
    relay,
    resultsConsumedThrough: () => results.consumedThrough(),
    publishGraceMs: config.HOLD_PUBLISH_GRACE_MS,
    maxExtensionSeconds: config.HOLD_MAX_EXTENSION_SECONDS,
  });
  const updates = new QueueUpdates(room, ticker);
  const consumer = base.consumer({ groupId: config.KAFKA_GROUP_ID, handlers: reservationSaga({ stages }) });

  return {
    logger,
    holdExpiry,
    consumer,
    ticker,
    controller,
    async start() {
      // ioredis keeps reconnecting by itself; meanwhile Redis commands fail after REDIS_COMMAND_TIMEOUT_MS.
      for (const client of [redis, tickerRedis])
        client
          .connect()
          .catch((error) => logger.warn({ err: error }, 'Redis not reachable yet; reconnecting'));
      const verify = accessTokenVerifier(remoteKeySet(config.ACCOUNT_JWKS_URL), {
        counted: countTokenChecks(metrics.registry),
      });
      const app = base.httpApp({
        openapi: ticketOpenApi(),
        // The waiting room is where a crowd is meant to wait: its routes read Redis, and are never shed. A booking
        // is what the sale is for: polls and seat maps go first.
        shedding: sheddingFrom(config, pool, {
          exempt: (path) => /^\/api\/events\/[^/]+\/queue/.test(path),
          critical: (method, path) => method === 'POST' && path === '/api/reservations',
          yields: {
            matches: (method, path) => method === 'POST' && QUEUE_JOIN.test(path),
            // Joins give way to the fans inside, about to book. With nobody inside (a pre-queue filling before the
            // opening) there is nothing to give way to, and turning joins away only brings them back as retries:
            // 800,000 joiners of a million-fan pre-queue, shed 0.9 of the time, spent the service's core on 4 million
            // refusals and 203,239 of them gave up.
            share: () => (ticker.admitting ? pressure.share() : 0),
            retryAfterSeconds: config.JOIN_YIELD_RETRY_AFTER_SECONDS,
          },
        }),
        readinessChecks: [{ name: 'redis', check: async () => void (await redis.ping()) }],
        routes: (app) => {
          queueRoutes({ verify, room, updates })(app);
          eventRoutes({
            verify,
            events: eventUseCases({ pool, queues: room }),
            seatMaps: new SeatMaps(pool, config.SEAT_MAP_CACHE_MS),
          })(app);
          reservationRoutes({
            verify,
            bookSeats: bookSeats({
              pool,
              room,
              relay,
              stages,
              logger,
              settleWindowSeconds: config.HOLD_SETTLE_WINDOW_SECONDS,
            }),
            reservations: reservationUseCases({ pool, relay, stages }),
          })(app);
        },
      });
      return base.start(app, MIGRATIONS_DIR, [results, holdExpiry, ticker, controller, consumer]);
    },
    stop: () =>
      base.stop([
        base.drain,
        { name: 'queue streams', run: async () => updates.closeAll() },
        base.closeHttp,
        { name: 'consumer', run: () => consumer.stop() },
        { name: 'hold expiry', run: () => holdExpiry.stop() },
        { name: 'results backlog', run: () => results.stop() },
        { name: 'admission ticker', run: () => ticker.stop() },
        { name: 'admission controller', run: () => controller.stop() },
        { name: 'redis', run: async () => void (await Promise.all([redis.quit(), tickerRedis.quit()])) },
        { name: 'event loop pressure', run: async () => pressure.stop() },
      ]),
  };
}
