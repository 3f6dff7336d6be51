import { refuseDevelopmentDefaults, sagaConfigSchema } from '@reservex/kit';
import { z } from 'zod';

const DEVELOPMENT_DATABASE_URL = 'postgres://reservex:reservex@127.0.0.1:5432/ticket';
const DEVELOPMENT_ADMISSION_SECRET = 'reservex-development-admission-secret-change-me';

export const ticketConfigSchema = sagaConfigSchema
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    DATABASE_URL: sagaConfigSchema.shape.DATABASE_URL.default(DEVELOPMENT_DATABASE_URL),
    ACCOUNT_JWKS_URL: z.url().default('http://127.0.0.1:8081/.well-known/jwks.json'),
    KAFKA_GROUP_ID: z.string().min(1).default('ticket-service'),
    HOLD_EXPIRY_INTERVAL_MS: z.coerce.number().int().min(50).default(500),
    /**
     * How long a reservation stays PENDING past the fan's deadline for a payment that started before it: at least
     * payment-service's GATEWAY_TIMEOUT_MS plus the time to resolve an unknown answer. Each reservation keeps the
     * window it was made with, as settle_by (docs/saga.md, the hold rule).
     */
    HOLD_SETTLE_WINDOW_SECONDS: z.coerce.number().int().min(0).max(600).default(30),
    /**
     * The longest the hold sweep waits past settle-by while the saga's results are queued for this service (docs/saga.md,
     * the hold rule): time in our own queue does not count against a fan, up to this bound.
     */
    HOLD_MAX_EXTENSION_SECONDS: z.coerce.number().int().min(0).max(600).default(60),
    /**
     * How long a capture made at settle-by may take to reach Kafka (payment-service records it, its relay publishes
     * it): the sweep expires a hold only once the log is consumed this far past its settle-by (docs/saga.md).
     */
    HOLD_PUBLISH_GRACE_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
    SEAT_MAP_CACHE_MS: z.coerce.number().int().min(0).default(500),
    /**
     * The event loop's utilisation above which queue joins give way to the rest (503 with a Retry-After that grows
     * with the share refused): a herd of joins then cannot starve the bookings of fans already admitted
     * (docs/overload.md). 1 never refuses one.
     */
    JOIN_YIELD_UTILISATION: z.coerce.number().min(0.5).max(1).default(0.9),
    /** Retry-After for a join refused while few are; the larger the share refused, the longer (at most 60 s). */
    JOIN_YIELD_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).max(60).default(3),
    REDIS_KEY_PREFIX: z.string().default('ticket:'),
    /** A Redis command that gets no answer in this time fails, rather than hold a request while Redis is away. */
    REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
    // Signs admission tokens; only ticket-service instances make and check them. Change it outside development.
    ADMISSION_TOKEN_SECRET: z.string().min(32).default(DEVELOPMENT_ADMISSION_SECRET),
    /**
     * The most an admission lasts. Within it, an admitted user who goes silent for QUEUE_HEARTBEAT_GRACE_SECONDS
     * (no status poll, no reservation attempt) loses the slot to the next person sooner.
     */
    ADMISSION_TTL_SECONDS: z.coerce.number().int().min(5).max(3600).default(120),
    /** A waiting user silent (no poll, no open stream) for this long is dropped when their turn comes. */
    QUEUE_HEARTBEAT_GRACE_SECONDS: z.coerce.number().int().min(1).default(30),
    QUEUE_TICK_MS: z.coerce.number().int().min(50).max(5000).default(250),
    /** How often the admission controller steps each open queue (docs/overload.md). */
    ADMISSION_CONTROL_PERIOD_MS: z.coerce.number().int().min(200).max(10_000).default(1000),
    QUEUE_JOIN_LIMIT_PER_USER: z.coerce.number().int().min(1).default(30),
    QUEUE_JOIN_LIMIT_PER_IP: z.coerce.number().int().min(1).default(10_000),
  })
  .superRefine(
    refuseDevelopmentDefaults({
      DATABASE_URL: DEVELOPMENT_DATABASE_URL,
      ADMISSION_TOKEN_SECRET: DEVELOPMENT_ADMISSION_SECRET,
    }),
  );

export type TicketConfig = z.infer<typeof ticketConfigSchema>;
