import { join } from 'node:path';
import {
  accessTokenVerifier,
  countTokenChecks,
  runMigrations,
  type Service,
  serviceBase,
  sheddingFrom,
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

/** How many user ids one POST /api/admin/sessions may name: the load harness asks in batches of this size. */
export { MAX_SESSIONS_PER_REQUEST } from './domain/bulk-sessions.ts';

export type AccountService = Service;

/** Wires the account service from its configuration. Nothing here reads the environment. */
export function createAccountService(config: AccountConfig): AccountService {
  const base = serviceBase(SERVICE_NAME, config, {
    notReady: 'migrations, signing keys and the admin not ready yet: waiting for PostgreSQL',
    waitsFor: 'PostgreSQL',
  });
  const { logger, pool, metrics } = base;
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  redis.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));
  const logins = new Counter({
    name: 'account_logins_total',
    help: 'Login attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [metrics.registry],
  });
  const sessionsMinted = new Counter({
    name: 'account_sessions_minted_total',
    help: 'Access tokens minted in bulk, without a login (POST /api/admin/sessions, load runs only)',
    registers: [metrics.registry],
  });
  const keys = new SigningKeyRing(pool, config.KEY_ENCRYPTION_KEY, logger);

  return {
    logger,
    async start() {
      redis.connect().catch((error) => logger.warn({ err: error }, 'Redis not reachable yet; reconnecting'));
      // The account service verifies its own tokens from the same public keys it publishes.
      const verify = accessTokenVerifier(keys.verifyKeys, { counted: countTokenChecks(metrics.registry) });
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
        onSessionsMinted: (count) => sessionsMinted.inc(count),
      });
      const app = base.httpApp({
        openapi: accountOpenApi(),
        shedding: sheddingFrom(config, pool),
        readinessChecks: [{ name: 'redis', check: async () => void (await redis.ping()) }],
        routes: accountRoutes(useCases, verify, keys, { bulkSessions: config.BULK_SESSIONS_ENABLED }),
      });
      if (config.BULK_SESSIONS_ENABLED)
        logger.warn(
          'BULK_SESSIONS_ENABLED: an admin can mint any account’s access token without its password',
        );
      let adminHash: Promise<string> | undefined;
      const signingKeys = { start: () => keys.startReloading(config.SIGNING_KEY_RELOAD_SECONDS) };
      return base.start(app, async () => {
        await runMigrations(pool, join(import.meta.dirname, '..', 'migrations'), logger);
        await keys.load();
        // Hashed once, however often start-up is retried.
        adminHash ??= hashPassword(config.ADMIN_PASSWORD, {
          log2N: config.PASSWORD_SCRYPT_LOG2N,
          r: 8,
          p: 1,
        });
        // Not retried: an ADMIN_EMAIL that belongs to someone else is a mistake to fix, not an outage.
        await ensureAdmin(pool, { email: config.ADMIN_EMAIL.toLowerCase(), passwordHash: await adminHash });
      }, [signingKeys]);
    },
    async stop() {
      keys.stop();
      await base.stop([
        base.drain,
        base.closeHttp,
        { name: 'redis', run: async () => void (await redis.quit()) },
      ]);
    },
  };
}
