import { baseConfigSchema } from '@reservex/kit';
import { z } from 'zod';

export const ticketConfigSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  DATABASE_URL: baseConfigSchema.shape.DATABASE_URL.default(
    'postgres://reservex:reservex@127.0.0.1:5432/ticket',
  ),
  ACCOUNT_JWKS_URL: z.url().default('http://127.0.0.1:8081/.well-known/jwks.json'),
  KAFKA_GROUP_ID: z.string().min(1).default('ticket-service'),
  HOLD_EXPIRY_INTERVAL_MS: z.coerce.number().int().min(50).default(500),
  SEAT_MAP_CACHE_MS: z.coerce.number().int().min(0).default(500),
});

export type TicketConfig = z.infer<typeof ticketConfigSchema>;
