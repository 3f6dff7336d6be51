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

export type OnRefundDue =
  /** Nothing to give back: REFUNDED as it stands, and payment.refunded. */
  { kind: 'complete' } | { kind: 'ask-provider' };

/**
 * A refund the refunder has claimed. A free seat is charged 0, and the provider records that capture (so a
 * confirmed free booking has one, like any other), but it refunds only a positive amount: a refund of 0 moves no
 * money, so it is complete without asking, rather than refused.
 */
export function onRefundDue(payment: { amount: number }): OnRefundDue {
  return payment.amount === 0 ? { kind: 'complete' } : { kind: 'ask-provider' };
}

export type OnRefundAnswer =
  | { kind: 'complete' }
  /** Refused for good: REFUND_REFUSED, with the provider's reason, for an operator. Never asked again. */
  | { kind: 'refuse'; reason: string }
  /** The answer was lost: asked again later, under the same refund key, which never refunds twice. */
  | { kind: 'retry' };

/** What the provider's answer to a refund makes of the payment. */
export function onRefundAnswer(
  answer: { kind: 'refunded' } | { kind: 'rejected'; why: string } | { kind: 'unknown' },
): OnRefundAnswer {
  switch (answer.kind) {
    case 'refunded':
      return { kind: 'complete' };
    case 'rejected':
      return { kind: 'refuse', reason: answer.why };
    case 'unknown':
      return { kind: 'retry' };
  }
}

/**
 * The provider captured the charge, at `capturedAt` by its own clock: the time the hold rule judges, however late
 * the answer was found. Null when the provider's answer carried no time (an older provider).
 */
export type CapturedOutcome = { kind: 'captured'; capturedAt: Date | null };

/**
 * What is known about a charge: the provider's outcome, `not-attempted` when it was never sent (the hold ended,
 * or the reservation was cancelled, before the first attempt), or `unknown` when the answer was lost.
 */
export type ChargeOutcome =
  | CapturedOutcome
  | { kind: 'declined'; reason: PaymentFailureReason }
  | { kind: 'not-attempted'; reason: Extract<PaymentFailureReason, 'reservation-cancelled' | 'hold-expired'> }
  | { kind: 'unknown' };

export type OnChargeOutcome =
  | {
      kind: 'transition';
      transition: PaymentTransition;
      publish: 'completed' | 'failed' | 'none';
      reason?: PaymentFailureReason;
    }
  | { kind: 'nothing' };

/**
 * Settling a charge. Only the attempt that holds the claim (same attempt number) settles a PROCESSING or
 * IN_DOUBT payment: another attempt asks the provider with the same key and gets the same answer. Any
 * attempt's capture that finds the payment FAILED is refunded, because the money moved whatever the record
 * says. An unknown answer is never read as a decline: the payment goes IN_DOUBT, and the reconciler asks.
 */
export function onChargeOutcome(
  payment: { status: PaymentStatus; attempts: number },
  outcome: ChargeOutcome,
  context: { attempt: number; cancelled: boolean },
): OnChargeOutcome {
  if (payment.status === 'FAILED' && outcome.kind === 'captured')
    return { kind: 'transition', transition: 'refund-late-capture', publish: 'none' };
  const open = payment.status === 'PROCESSING' || payment.status === 'IN_DOUBT';
  if (!open || payment.attempts !== context.attempt) return { kind: 'nothing' };
  switch (outcome.kind) {
    case 'captured':
      return context.cancelled
        ? { kind: 'transition', transition: 'capture-after-cancel', publish: 'none' }
        : { kind: 'transition', transition: 'capture', publish: 'completed' };
    case 'unknown':
      return payment.status === 'PROCESSING'
        ? { kind: 'transition', transition: 'doubt', publish: 'none' }
        : { kind: 'nothing' };
    default:
      return { kind: 'transition', transition: 'fail', publish: 'failed', reason: outcome.reason };
  }
}

/** What the provider said when asked about a payment in doubt: a lookup's answer, or a void's. */
export type ProviderRecord =
  | CapturedOutcome
  | { kind: 'declined'; reason: PaymentFailureReason }
  | { kind: 'voided' }
  | { kind: 'pending' }
  | { kind: 'none' }
  | { kind: 'unknown' };

export type OnProviderRecord =
  /** The outcome is known: settle it. */
  | { kind: 'settle'; outcome: Exclude<ChargeOutcome, { kind: 'unknown' }> }
  /** The provider never saw the charge and the hold is still on: charge again, under the same key. */
  | { kind: 'charge-again' }
  /** No outcome, and no new charge may start (the hold's deadline passed, or the booking ended): void the key. */
  | { kind: 'void' }
  /** Nothing known yet: ask again later, with backoff. */
  | { kind: 'wait' };

/** What the hold rule (docs/saga.md) still allows a payment: a new charge, or waiting on one in flight. */
export interface ChargeWindow {
  /** Before the fan's deadline, and the booking not cancelled. */
  mayCharge: boolean;
  /** Early enough before settle-by that a void would still land before ticket-service gives up. */
  mayWait: boolean;
}

export function chargeWindow(
  payment: { holdExpiresAt: Date; settleBy: Date; cancelled: boolean },
  now: number,
  voidMarginMs: number,
): ChargeWindow {
  if (payment.cancelled) return { mayCharge: false, mayWait: false };
  const waitUntil = Math.max(payment.holdExpiresAt.getTime(), payment.settleBy.getTime() - voidMarginMs);
  return { mayCharge: now < payment.holdExpiresAt.getTime(), mayWait: now < waitUntil };
}

/**
 * The reconciler's step for a payment in doubt. It never guesses: only the provider's record settles a payment,
 * and a key with no outcome is voided at the provider before the payment may fail, so nothing can be captured
 * under it afterwards.
 */
export function onProviderRecord(record: ProviderRecord, window: ChargeWindow): OnProviderRecord {
  switch (record.kind) {
    case 'captured':
      return { kind: 'settle', outcome: { kind: 'captured', capturedAt: record.capturedAt } };
    case 'declined':
      return { kind: 'settle', outcome: { kind: 'declined', reason: record.reason } };
    case 'voided':
      return { kind: 'settle', outcome: { kind: 'declined', reason: 'gateway-timeout' } };
    case 'none':
      return window.mayCharge ? { kind: 'charge-again' } : { kind: 'void' };
    case 'pending':
      return window.mayWait ? { kind: 'wait' } : { kind: 'void' };
    case 'unknown':
      return { kind: 'wait' };
  }
}

/**
 * How long to wait before asking the provider again: exponential from `baseMs`, capped at `maxMs`, with
 * jitter (half fixed, half random) so that many payments in doubt after an outage do not ask all at once.
 */
export function backoffMs(
  tries: number,
  options: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(tries, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
