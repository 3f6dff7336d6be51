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

export const seatAvailabilityView = z.object({
  version: z.number().int().min(0),
  statuses: z
    .string()
    .regex(/^[AHS]*$/)
    .describe(
      "One letter a seat, in the seat map's order: A available, H held, S sold (the first letter of its status)",
    ),
});

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
  place: z
    .number()
    .int()
    .min(1)
    .nullable()
    .optional()
    .describe('The place in line; null in the pre-queue before the opening draws it'),
  paused: z
    .boolean()
    .optional()
    .describe('On the stream: the organiser paused admissions; the place is kept'),
  soldOut: z.boolean().optional(),
  admissionToken: z.string().optional().describe('Send it as X-Admission-Token when reserving'),
  admissionExpiresAt: time.optional(),
  admissionLapsesAt: time.optional(),
});

export const queueJoinView = queueStatusView.extend({
  queueTicket: z
    .string()
    .describe('The place, signed: send it as X-Queue-Ticket when asking for it (…/queue/me, …/queue/stream)'),
  number: z.number().int().min(1).describe('The join number the ticket carries'),
  draw: z
    .number()
    .min(0)
    .max(1)
    .describe(
      "The number's draw in the pre-queue's lottery: the share of the pre-queue that will stand ahead (for a join before the opening)",
    ),
  placeEstimated: z
    .boolean()
    .describe(
      'True while the place is estimated from the draw (the pre-queue); the own place at the origin is exact',
    ),
  ask: z
    .enum(['origin', 'edge'])
    .describe(
      'Whom to ask next: the shared status (…/queue/status, from the edge) while far from the front, the own place near it',
    ),
});

export const sharedQueueStatusView = z.object({
  eventId: z.uuid(),
  opensAt: time,
  salesOpenAt: time,
  lottery: z
    .object({ size: z.number().int().min(0), key: z.string().regex(/^[0-9a-f]{32}$/) })
    .nullable()
    .describe(
      'The pre-queue sealed at the opening: its size, and the key its draws came from (published so anyone can check the order); null before',
    ),
  served: z.number().int().min(0).describe('Every place up to this has had its turn'),
  lastNumber: z.number().int().min(0).describe('The last join number handed out'),
  etaPerSecond: z.number().min(0).nullable().describe('The admission rate waits are estimated at'),
  fastestPerSecond: z.number().min(1).describe('The fastest admissions can go: poll hints keep to it'),
  paused: z.boolean(),
  closed: z.boolean().describe('Draining: no new joins'),
  soldOut: z.boolean(),
  frontWindowSeconds: z
    .number()
    .int()
    .min(1)
    .describe('How far ahead of their turn, at the fastest rate, a fan starts asking for their own place'),
  at: time.describe('The time of the last admission step'),
});
