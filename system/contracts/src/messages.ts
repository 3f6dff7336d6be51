import { z } from 'zod';
import { TOPICS, type Topic } from './topics.ts';

const money = z.number().int().nonnegative(); // minor units (won have none: 1 = ₩1)
const isoTime = z.iso.datetime({ offset: true });

export const reservationCreatedV1 = z.object({
  reservationId: z.uuid(),
  eventId: z.uuid(),
  userId: z.string().min(1),
  seatIds: z.array(z.uuid()).min(1),
  amount: money,
  currency: z.string().length(3),
  /** The fan's deadline: no charge may start after it. */
  expiresAt: isoTime,
  /**
   * When a charge that started in time must have landed: the hold ends then (docs/saga.md, the hold rule).
   * Absent from messages of older producers, where it equals expiresAt.
   */
  settleBy: isoTime.optional(),
});

export const paymentCompletedV1 = z.object({
  reservationId: z.uuid(),
  paymentId: z.uuid(),
  amount: money,
  /** The provider's time of the capture, however late payment-service found it out: what settleBy judges. */
  capturedAt: isoTime,
});

/** Why a payment provider declines a card. */
export const DECLINE_REASONS = [
  'card-declined',
  'insufficient-funds',
  'expired-card',
  'fraud-suspected',
] as const;
export type DeclineReason = (typeof DECLINE_REASONS)[number];

/** Why a payment failed: the provider declined, or the payment was refused before any charge. */
export const PAYMENT_FAILURE_REASONS = [
  ...DECLINE_REASONS,
  'gateway-timeout',
  'reservation-cancelled',
  'hold-expired',
] as const;
export type PaymentFailureReason = (typeof PAYMENT_FAILURE_REASONS)[number];

export const paymentFailedV1 = z.object({
  reservationId: z.uuid(),
  paymentId: z.uuid(),
  reason: z.enum(PAYMENT_FAILURE_REASONS),
});

export const reservationConfirmedV1 = z.object({
  reservationId: z.uuid(),
  eventId: z.uuid(),
  userId: z.string().min(1),
  seatIds: z.array(z.uuid()).min(1),
  amount: money,
});

export const CANCELLATION_REASONS = ['payment-failed', 'expired', 'user-cancelled'] as const;
export type CancellationReason = (typeof CANCELLATION_REASONS)[number];

export const reservationCancelledV1 = z.object({
  reservationId: z.uuid(),
  eventId: z.uuid(),
  reason: z.enum(CANCELLATION_REASONS),
  /** Whether the reservation had been confirmed: a confirmed one was paid for and is to be refunded. */
  wasConfirmed: z.boolean(),
});

export const paymentRefundedV1 = z.object({
  reservationId: z.uuid(),
  paymentId: z.uuid(),
  amount: money,
  refundedAt: isoTime,
});

/** The payload schema of each topic at each version. A consumer rejects a version it does not know. */
export const MESSAGE_SCHEMAS = {
  [TOPICS.reservationCreated]: { 1: reservationCreatedV1 },
  [TOPICS.paymentCompleted]: { 1: paymentCompletedV1 },
  [TOPICS.paymentFailed]: { 1: paymentFailedV1 },
  [TOPICS.reservationConfirmed]: { 1: reservationConfirmedV1 },
  [TOPICS.reservationCancelled]: { 1: reservationCancelledV1 },
  [TOPICS.paymentRefunded]: { 1: paymentRefundedV1 },
} as const satisfies Record<Topic, Record<number, z.ZodType>>;

export type MessageData<T extends Topic> = z.infer<(typeof MESSAGE_SCHEMAS)[T][1]>;
