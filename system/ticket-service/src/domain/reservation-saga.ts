import type { CancellationReason } from '@reservex/contracts';
import type { ReservationStatus } from './reservation-status.ts';

/**
 * What ticket-service decides at each saga step, from the reservation as it stands and the message that arrived.
 * Pure, so each step reads as "given this state and this message, expect this": the messaging module applies
 * the decision, inside the consumer's transaction.
 */
export interface ReservationState {
  status: ReservationStatus;
  amount: number;
  reason: string | null;
  /** When a payment that started in time must have landed (docs/saga.md, the hold rule). */
  settleBy: Date;
}

export type OnPaymentCompleted =
  | { kind: 'confirm' }
  /**
   * Captured after settle-by (the gateway took longer than the window): the booking ends as its hold would have,
   * and the capture is refunded. A capture made in time confirms however late it is read (the hold rule).
   */
  | { kind: 'expire' }
  /** The reservation ended before the money came (a late payment): say so again, so the capture is refunded. */
  | { kind: 'announce-cancellation'; reason: CancellationReason }
  | { kind: 'amount-mismatch'; captured: number; expected: number }
  | { kind: 'nothing' };

export function onPaymentCompleted(
  reservation: ReservationState,
  captured: { amount: number; at: Date },
): OnPaymentCompleted {
  switch (reservation.status) {
    case 'PENDING':
      if (captured.amount !== reservation.amount)
        return { kind: 'amount-mismatch', captured: captured.amount, expected: reservation.amount };
      return captured.at.getTime() > reservation.settleBy.getTime()
        ? { kind: 'expire' }
        : { kind: 'confirm' };
    case 'CANCELLED':
    case 'EXPIRED':
      return { kind: 'announce-cancellation', reason: endedBecause(reservation) };
    case 'CONFIRMED':
      return { kind: 'nothing' };
  }
}

export type OnPaymentFailed = { kind: 'compensate' } | { kind: 'nothing' };

/** The compensation: a failed payment releases the seats. Anything but PENDING has already ended or been paid. */
export function onPaymentFailed(reservation: ReservationState): OnPaymentFailed {
  return reservation.status === 'PENDING' ? { kind: 'compensate' } : { kind: 'nothing' };
}

export type OnHoldEnded = { kind: 'expire' } | { kind: 'nothing' };

/** The saga's timeout: a hold that ran out with no payment decided ends, and the seats go back on sale. */
export function onHoldEnded(reservation: ReservationState): OnHoldEnded {
  return reservation.status === 'PENDING' ? { kind: 'expire' } : { kind: 'nothing' };
}

export type OnCancelRequested =
  | { kind: 'cancel' }
  /** Already CANCELLED or EXPIRED: nothing left to cancel. */
  | { kind: 'ended' }
  /** A ticket for a show that has begun: not given back for a refund. */
  | { kind: 'event-started'; startsAt: Date };

/**
 * A fan cancels: a PENDING booking releases its seats, a CONFIRMED one is also refunded, through the saga. Once
 * the event has started a CONFIRMED booking is a ticket for a show already under way, and a full refund then
 * would let a fan attend and still get their money back: refused. A PENDING booking may still be cancelled after
 * the start: nothing has been paid for it yet (a capture that lands later is refunded by the saga), so letting it
 * go costs nothing, while refusing would leave the fan to be charged for a show already under way, since a
 * payment that started in time may still confirm it after the start (the hold rule).
 */
export function onCancelRequested(
  reservation: Pick<ReservationState, 'status'>,
  event: { startsAt: Date },
  now: Date,
): OnCancelRequested {
  switch (reservation.status) {
    case 'PENDING':
      return { kind: 'cancel' };
    case 'CONFIRMED':
      return now.getTime() >= event.startsAt.getTime()
        ? { kind: 'event-started', startsAt: event.startsAt }
        : { kind: 'cancel' };
    case 'CANCELLED':
    case 'EXPIRED':
      return { kind: 'ended' };
  }
}

function endedBecause(reservation: ReservationState): CancellationReason {
  if (reservation.status === 'EXPIRED') return 'expired';
  return reservation.reason === 'payment-failed' ? 'payment-failed' : 'user-cancelled';
}
