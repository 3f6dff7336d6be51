import { z } from 'zod';

/**
 * What ticket-service answers, as the OpenAPI document states it. The use cases build these shapes; the fuzzer
 * checks every answer against them (response_schema_conformance), so a field added or renamed in one place and
 * not the other fails CI.
 */
const time = z.iso.datetime({ offset: true });

export const seatView = z.object({
  id: z.uuid(),
  section: z.string(),
  row: z.string(),
  number: z.number().int().min(1),
  price: z.number().int().min(0),
});

export const seatMapView = z.array(seatView.extend({ status: z.enum(['AVAILABLE', 'HELD', 'SOLD']) }));

export const reservationView = z.object({
  id: z.uuid(),
  eventId: z.uuid(),
  status: z.enum(['PENDING', 'CONFIRMED', 'CANCELLED', 'EXPIRED']),
  reason: z.enum(['payment-failed', 'expired', 'user-cancelled']).optional(),
  paymentFailure: z
    .string()
    .optional()
    .describe('Why the payment failed, when it did (a decline reason or a timeout)'),
  seats: z.array(seatView),
  amount: z.number().int().min(0),
  currency: z.string().length(3),
  expiresAt: time.describe('The fan’s deadline: no charge starts after it'),
  createdAt: time,
  confirmedAt: time.optional(),
  endedAt: time.optional(),
  refundedAt: time.optional(),
});

export const queueStatusView = z.object({
  state: z.enum(['waiting', 'admitted', 'expired']),
  position: z
    .number()
    .int()
    .min(0)
    .nullable()
    .describe('People ahead plus one; null in the pre-queue before the opening'),
  etaSeconds: z.number().int().min(0).nullable(),
  pollAfterSeconds: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      'When to ask again, as Retry-After says: a quarter of the wait, until the opening in the pre-queue',
    ),
  ticket: z.number().int().nullable().optional(),
  paused: z
    .boolean()
    .optional()
    .describe('On the stream: the organiser paused admissions; the place is kept'),
  soldOut: z.boolean().optional(),
  admissionToken: z.string().optional().describe('Send it as X-Admission-Token when reserving'),
  admissionExpiresAt: time.optional(),
  admissionLapsesAt: time.optional(),
});
