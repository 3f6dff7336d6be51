import { refuseDevelopmentDefaults, sagaConfigSchema } from '@reservex/kit';
import { z } from 'zod';

const DEVELOPMENT = {
  DATABASE_URL: 'postgres://reservex:reservex@127.0.0.1:5432/payment',
  PROVIDER_API_KEY: 'reservex-development-provider-key-change-me',
};

export const paymentConfigSchema = sagaConfigSchema
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(8082),
    DATABASE_URL: sagaConfigSchema.shape.DATABASE_URL.default(DEVELOPMENT.DATABASE_URL),
    ACCOUNT_JWKS_URL: z.url().default('http://127.0.0.1:8081/.well-known/jwks.json'),
    KAFKA_GROUP_ID: z.string().min(1).default('payment-service'),
    /** The payment provider (system/payment-provider, or a real acquirer's API of the same shape). */
    PROVIDER_URL: z.url().default('http://127.0.0.1:8083'),
    PROVIDER_API_KEY: z.string().min(24).default(DEVELOPMENT.PROVIDER_API_KEY),
    /** How long one call to the provider may take; after it the answer is unknown and the payment in doubt. */
    GATEWAY_TIMEOUT_MS: z.coerce.number().int().min(1).max(120_000).default(3000),
    /** The reconciler's backoff between lookups of a payment in doubt (jittered, doubling up to the cap). */
    RECONCILE_BACKOFF_BASE_MS: z.coerce.number().int().min(10).max(60_000).default(250),
    RECONCILE_BACKOFF_MAX_MS: z.coerce.number().int().min(10).max(600_000).default(4000),
    PAYMENT_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(64),
    /**
     * How long a charge or refund attempt holds its claim. The attempt renews it while the provider takes its
     * time, so it need not cover a slow answer: it is how long a crashed instance's payments wait to be taken over.
     */
    PAYMENT_LEASE_SECONDS: z.coerce.number().int().min(2).max(600).default(6),
    /** Test-only fault: exit the process between a consumer's database commit and its offset commit. */
    FAULT_CRASH_AFTER_DB_COMMIT: z.enum(['true', 'false']).default('false'),
  })
  .refine((c) => c.RECONCILE_BACKOFF_BASE_MS <= c.RECONCILE_BACKOFF_MAX_MS, {
    message: 'must not exceed RECONCILE_BACKOFF_MAX_MS',
    path: ['RECONCILE_BACKOFF_BASE_MS'],
  })
  .superRefine(refuseDevelopmentDefaults(DEVELOPMENT));

export type PaymentConfig = z.infer<typeof paymentConfigSchema>;
