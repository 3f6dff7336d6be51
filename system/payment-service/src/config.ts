import { refuseDevelopmentDefaults, sagaConfigSchema } from '@reservex/kit';
import { z } from 'zod';

const DEVELOPMENT_DATABASE_URL = 'postgres://reservex:reservex@127.0.0.1:5432/payment';

export const paymentConfigSchema = sagaConfigSchema
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(8082),
    DATABASE_URL: sagaConfigSchema.shape.DATABASE_URL.default(DEVELOPMENT_DATABASE_URL),
    ACCOUNT_JWKS_URL: z.url().default('http://127.0.0.1:8081/.well-known/jwks.json'),
    KAFKA_GROUP_ID: z.string().min(1).default('payment-service'),
    // The fault profile the service starts with; PUT /api/admin/faults changes it while running.
    GATEWAY_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0.1),
    GATEWAY_TIMEOUT_RATE: z.coerce.number().min(0).max(1).default(0),
    GATEWAY_LATENCY_MIN_MS: z.coerce.number().int().min(0).default(20),
    GATEWAY_LATENCY_MAX_MS: z.coerce.number().int().min(0).default(200),
    GATEWAY_TIMEOUT_MS: z.coerce.number().int().min(1).default(3000),
    PAYMENT_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(64),
    /**
     * How long a charge or refund attempt holds its claim. The attempt renews it while the provider takes its
     * time, so it need not cover a slow answer: it is how long a crashed instance's payments wait to be taken over.
     */
    PAYMENT_LEASE_SECONDS: z.coerce.number().int().min(2).max(600).default(6),
    /** Test-only fault: exit the process between a consumer's database commit and its offset commit. */
    FAULT_CRASH_AFTER_DB_COMMIT: z.enum(['true', 'false']).default('false'),
  })
  .refine((c) => c.GATEWAY_LATENCY_MIN_MS <= c.GATEWAY_LATENCY_MAX_MS, {
    message: 'must not exceed GATEWAY_LATENCY_MAX_MS',
    path: ['GATEWAY_LATENCY_MIN_MS'],
  })
  .superRefine(refuseDevelopmentDefaults({ DATABASE_URL: DEVELOPMENT_DATABASE_URL }));

export type PaymentConfig = z.infer<typeof paymentConfigSchema>;
