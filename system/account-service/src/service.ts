import { join } from 'node:path';
import {
  accessTokenVerifier,
  createHttpApp,
  createLogger,
  createPool,
  createServiceMetrics,
  createTracing,
  drainDelay,
  type Logger,
  listen,
  observePgPool,
  type RunningServer,
  retryUntilDone,
  runMigrations,
  sheddingFrom,
  shutdown,
} from '@reservex/kit';
import { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import type { AccountConfig } from './config.ts';
import { hashPassword } from './domain/password.ts';
import { accountRoutes } from './http/account-routes.ts';
import { accountOpenApi } from './http/operations.ts';
import { loginThrottle } from './store/login-throttle.ts';
import { ensureAdmin } from './store/users.ts';
import { accountUseCases } from './use-cases/accounts.ts';
import { boundedHashing } from './use-cases/bounded-hashing.ts';
import { SigningKeyRing } from './use-cases/signing-key-ring.ts';

export const SERVICE_NAME = 'account-service';

export interface AccountService {
  logger: Logger;
  start(): Promise<RunningServer>;
  stop(): Promise<void>;
}

/** Wires the account service from its configuration. Nothing here reads the environment. */
export function createAccountService(config: AccountConfig): AccountService {
  const logger = createLogger(SERVICE_NAME, config.LOG_LEVEL);
  const pool = createPool(config.DATABASE_URL, config.DATABASE_POOL_MAX, logger);
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  redis.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));
  const metrics = createServiceMetrics(SERVICE_NAME);
  observePgPool(metrics, pool);
  const tracing = createTracing(SERVICE_NAME, config);
  const logins = new Counter({
    name: 'account_logins_total',
    help: 'Login attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [metrics.registry],
  });
  const keys = new SigningKeyRing(pool, config.KEY_ENCRYPTION_KEY, logger);
  let server: RunningServer | undefined;
  let draining = false;
  let prepared = false;
  const stopping = new AbortController();

  return {
    logger,
    async start() {
      // The account service verifies its own tokens from the same public keys it publishes.
      const verify = accessTokenVerifier(keys.verifyKeys);
      const useCases = accountUseCases({
        pool,
        throttle: loginThrottle(
          redis,
          config.REDIS_KEY_PREFIX,
          config.LOGIN_LIMIT_WINDOW_SECONDS,
          config.SIGNUP_LIMIT_WINDOW_SECONDS,
        ),
        hashing: boundedHashing(config.PASSWORD_HASH_CONCURRENCY, config.PASSWORD_HASH_QUEUE),
        signingKey: () => keys.current(),
        config,
        onLogin: (outcome) => logins.inc({ outcome }),
      });
      const app = createHttpApp({
        service: SERVICE_NAME,
        logger,
        metrics,
        tracer: tracing.tracer,
        bodyLimit: config.HTTP_BODY_LIMIT,
        trustProxy: config.TRUST_PROXY,
        corsOrigins: config.CORS_ORIGINS,
        isDraining: () => draining,
        shedding: sheddingFrom(config, pool),
        openapi: accountOpenApi(),
        readinessChecks: [
          {
            name: 'startup',
            check: async () => {
              if (!prepared)
                throw new Error(
                  'migrations, signing keys and the admin not ready yet: waiting for PostgreSQL',
                );
            },
          },
          { name: 'postgres', check: async () => void (await pool.query('SELECT 1')) },
          { name: 'redis', check: async () => void (await redis.ping()) },
        ],
        routes: accountRoutes(useCases, verify, keys),
      });
      // Listening first: liveness answers at once, readiness says DOWN until PostgreSQL and Redis do.
      server = await listen(app, config.HOST, config.PORT);
      redis.connect().catch((error) => logger.warn({ err: error }, 'Redis not reachable yet; reconnecting'));
      const adminHash = await hashPassword(config.ADMIN_PASSWORD, {
        log2N: config.PASSWORD_SCRYPT_LOG2N,
        r: 8,
        p: 1,
      });
      await retryUntilDone(
        async () => {
          await runMigrations(pool, join(import.meta.dirname, '..', 'migrations'), logger);
          await keys.load();
          // Not retried: an ADMIN_EMAIL that belongs to someone else is a mistake to fix, not an outage.
          await ensureAdmin(pool, { email: config.ADMIN_EMAIL.toLowerCase(), passwordHash: adminHash });
        },
        {
          what: 'start-up',
          signal: stopping.signal,
          onFailure: (error, attempt) => {
            if (attempt === 1 || attempt % 10 === 0)
              logger.warn({ err: error, attempt }, 'start-up waits for PostgreSQL');
          },
        },
      );
      keys.startReloading(config.SIGNING_KEY_RELOAD_SECONDS);
      prepared = true;
      logger.info({ url: server.url }, 'account-service listening');
      return server;
    },
    async stop() {
      draining = true;
      stopping.abort();
      keys.stop();
      await shutdown(
        [
          { name: 'drain', run: () => drainDelay(config.SHUTDOWN_DRAIN_DELAY_MS) },
          { name: 'http', run: async () => server?.close(config.SHUTDOWN_GRACE_MS) },
          { name: 'redis', run: async () => void (await redis.quit()) },
          { name: 'postgres', run: () => pool.end() },
          { name: 'tracing', run: () => tracing.shutdown() },
        ],
        config.SHUTDOWN_GRACE_MS,
        logger,
      );
    },
  };
}
