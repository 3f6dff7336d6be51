import { baseConfigSchema } from '@reservex/kit';
import { z } from 'zod';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

export const accountConfigSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  DATABASE_URL: baseConfigSchema.shape.DATABASE_URL.default(
    'postgres://reservex:reservex@127.0.0.1:5432/account',
  ),
  REDIS_KEY_PREFIX: z.string().default('account:'),
  ADMIN_EMAIL: z.email().default('admin@reservex.local'),
  ADMIN_PASSWORD: z.string().min(8).default('reservex-admin'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(10).max(86_400).default(900),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(14 * 86_400),
  // OWASP's scrypt floor is N=2^17, r=8, p=1. Load scenarios lower it to sign up thousands of users on two cores.
  PASSWORD_SCRYPT_LOG2N: z.coerce.number().int().min(8).max(20).default(17),
  LOGIN_LIMIT_PER_ACCOUNT: z.coerce.number().int().min(1).default(10),
  LOGIN_LIMIT_PER_IP: z.coerce.number().int().min(1).default(300),
  LOGIN_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
  TRUST_PROXY: bool.default(false),
});

export type AccountConfig = z.infer<typeof accountConfigSchema>;
