import { baseConfigSchema, refuseDevelopmentDefaults } from '@reservex/kit';
import { z } from 'zod';

const DEVELOPMENT = {
  DATABASE_URL: 'postgres://reservex:reservex@127.0.0.1:5432/account',
  ADMIN_EMAIL: 'admin@reservex.local',
  ADMIN_PASSWORD: 'reservex-admin',
  KEY_ENCRYPTION_KEY: 'reservex-development-key-encryption-key-change-me',
};

export const accountConfigSchema = baseConfigSchema
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(8081),
    DATABASE_URL: baseConfigSchema.shape.DATABASE_URL.default(DEVELOPMENT.DATABASE_URL),
    REDIS_KEY_PREFIX: z.string().default('account:'),
    ADMIN_EMAIL: z.email().default(DEVELOPMENT.ADMIN_EMAIL),
    ADMIN_PASSWORD: z.string().min(8).default(DEVELOPMENT.ADMIN_PASSWORD),
    /** Encrypts the token-signing private keys at rest (AES-256-GCM under a key derived from this). */
    KEY_ENCRYPTION_KEY: z.string().min(32).default(DEVELOPMENT.KEY_ENCRYPTION_KEY),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(10).max(86_400).default(900),
    REFRESH_TOKEN_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .default(14 * 86_400),
    // OWASP's scrypt floor is N=2^17, r=8, p=1. Load scenarios lower it to sign up thousands of users on two cores.
    PASSWORD_SCRYPT_LOG2N: z.coerce.number().int().min(8).max(20).default(17),
    /** Hashes running at once (each takes 128 MiB at N=2^17), and how many may wait; beyond that, 503. */
    PASSWORD_HASH_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
    PASSWORD_HASH_QUEUE: z.coerce.number().int().min(0).max(10_000).default(32),
    /** Failed or not, attempts from one address on one account: the lockout an attacker can only inflict on himself. */
    LOGIN_LIMIT_PER_ACCOUNT_AND_IP: z.coerce.number().int().min(1).default(10),
    /** Attempts on one account from addresses that never signed in to it before (a distributed guess). */
    LOGIN_LIMIT_PER_ACCOUNT: z.coerce.number().int().min(1).default(100),
    LOGIN_LIMIT_PER_IP: z.coerce.number().int().min(1).default(300),
    LOGIN_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
    SIGNUP_LIMIT_PER_IP: z.coerce.number().int().min(1).default(20),
    SIGNUP_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(3600),
    /** How often an instance reloads the signing keys, so a rotation made by another instance reaches it. */
    SIGNING_KEY_RELOAD_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
    /**
     * POST /api/admin/sessions: an admin mints access tokens for many existing users at once, with no password.
     * For load runs, whose million fans cannot each pay a login; production refuses to start with it on.
     */
    BULK_SESSIONS_ENABLED: z
      .enum(['true', 'false'])
      .default('false')
      .transform((on) => on === 'true'),
  })
  .superRefine(refuseDevelopmentDefaults(DEVELOPMENT))
  .superRefine((config, ctx) => {
    if (config.NODE_ENV === 'production' && config.BULK_SESSIONS_ENABLED)
      ctx.addIssue({
        code: 'custom',
        path: ['BULK_SESSIONS_ENABLED'],
        message:
          'lets an admin token act as any user without a password: a load-test setting, refused with NODE_ENV=production',
      });
  });

export type AccountConfig = z.infer<typeof accountConfigSchema>;
