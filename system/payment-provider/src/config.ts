import { baseConfigSchema, refuseDevelopmentDefaults } from '@reservex/kit';
import { z } from 'zod';

const DEVELOPMENT = {
  DATABASE_URL: 'postgres://reservex:reservex@127.0.0.1:5432/provider',
  PROVIDER_API_KEY: 'reservex-development-provider-key-change-me',
};

export const providerConfigSchema = baseConfigSchema
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(8083),
    DATABASE_URL: baseConfigSchema.shape.DATABASE_URL.default(DEVELOPMENT.DATABASE_URL),
    /** What a merchant sends as its bearer token; payment-service holds the same value. */
    PROVIDER_API_KEY: z.string().min(24).default(DEVELOPMENT.PROVIDER_API_KEY),
    /** How long a "timeout" fault keeps a request hanging: longer than any caller waits. */
    PROVIDER_HANG_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
    // The fault profile a fresh provider starts with; PUT /v1/faults changes it (and it survives a restart).
    PROVIDER_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0.1),
    PROVIDER_LATENCY_MIN_MS: z.coerce.number().int().min(0).default(20),
    PROVIDER_LATENCY_MAX_MS: z.coerce.number().int().min(0).default(200),
  })
  .superRefine(refuseDevelopmentDefaults(DEVELOPMENT));

export type ProviderConfig = z.infer<typeof providerConfigSchema>;
