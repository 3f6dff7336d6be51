import type { PaymentFailureReason } from '@reservex/contracts';
import type { PaymentStatus, PaymentTransition } from './payment-status.ts';

/**
 * What payment-service decides at each step of the saga, from the payment as it stands and what arrived: a
 * message, or the gateway's answer. Pure, so each step reads as "given this, expect that"; the messaging module
 * and the settle use case apply the decisions.
 */

export type OnReservationCreated =
  | { kind: 'open' }
  /** Never charged: the reservation ended before its request arrived, or its hold already ran out. */
  | { kind: 'refuse'; reason: Extract<PaymentFailureReason, 'reservation-cancelled' | 'hold-expired'> };

export function onReservationCreated(request: {
  cancelled: boolean;
  holdEnded: boolean;
}): OnReservationCreated {
  if (request.cancelled) return { kind: 'refuse', reason: 'reservation-cancelled' };
  if (request.holdEnded) return { kind: 'refuse', reason: 'hold-expired' };
  return { kind: 'open' };
}

export type OnReservationCancelled = { kind: 'refund' } | { kind: 'nothing' };

/**
 * The compensation of the charge. A CAPTURED payment is refunded. PROCESSING: the charge in flight sees the
 * cancellation when it settles. None yet: the request sees it when it arrives. Anything else holds no money.
 */
export function onReservationCancelled(
  payment: { status: PaymentStatus } | undefined,
): OnReservationCancelled {
  return payment?.status === 'CAPTURED' ? { kind: 'refund' } : { kind: 'nothing' };
}

/** What the gateway said about a charge; `not-attempted` when the hold ended before a charge was made. */
export type ChargeOutcome =
  | { kind: 'captured' }
  | { kind: 'declined'; reason: PaymentFailureReason }
  | { kind: 'not-attempted'; reason: 'hold-expired' };

export type OnChargeOutcome =
  | {
      kind: 'transition';
      transition: PaymentTransition;
      publish: 'completed' | 'failed' | 'none';
      reason?: PaymentFailureReason;
    }
  | { kind: 'nothing' };

/**
 * Settling a charge. Only the attempt that holds the claim (same attempt number) settles a PROCESSING payment:
 * another attempt asks the gateway with the same key and gets the same answer. Any attempt's capture that finds
 * the payment FAILED is refunded, because the money moved whatever the record says.
 */
export function onChargeOutcome(
  payment: { status: PaymentStatus; attempts: number },
  outcome: ChargeOutcome,
  context: { attempt: number; cancelled: boolean },
): OnChargeOutcome {
  if (payment.status === 'FAILED' && outcome.kind === 'captured')
    return { kind: 'transition', transition: 'refund-late-capture', publish: 'none' };
  if (payment.status !== 'PROCESSING' || payment.attempts !== context.attempt) return { kind: 'nothing' };
  if (outcome.kind === 'captured')
    return context.cancelled
      ? { kind: 'transition', transition: 'capture-after-cancel', publish: 'none' }
      : { kind: 'transition', transition: 'capture', publish: 'completed' };
  return { kind: 'transition', transition: 'fail', publish: 'failed', reason: outcome.reason };
}
