import { type PaymentFailureReason, TOPICS } from '@reservex/contracts';
import { enqueueNewMessage, type Queryable } from '@reservex/kit';
import type { Payment } from './payments.ts';

// What payment-service tells the saga, written to the outbox inside the transaction that made the change.

/** Which payment a message is about, as every one of them names it; keyed by its reservation, as the saga is. */
const aboutPayment = (p: Pick<Payment, 'id' | 'reservationId'>) => ({
  reservationId: p.reservationId,
  paymentId: p.id,
});

/**
 * A captured payment, announced with the time its row holds: the provider's time of the capture, which the hold
 * rule judges against settle-by, not the time payment-service came to know of it.
 */
export function announceCapture(tx: Queryable, p: Payment) {
  if (p.capturedAt === null)
    throw new Error(`payment ${p.id} announced as captured before its capture was stamped`);
  return enqueueNewMessage(tx, TOPICS.paymentCompleted, p.reservationId, {
    ...aboutPayment(p),
    amount: p.amount,
    capturedAt: p.capturedAt.toISOString(),
  });
}

export function announceFailure(
  tx: Queryable,
  p: Pick<Payment, 'id' | 'reservationId'>,
  reason: PaymentFailureReason,
) {
  return enqueueNewMessage(tx, TOPICS.paymentFailed, p.reservationId, { ...aboutPayment(p), reason });
}

export function announceRefund(tx: Queryable, p: Payment) {
  return enqueueNewMessage(tx, TOPICS.paymentRefunded, p.reservationId, {
    ...aboutPayment(p),
    amount: p.amount,
    refundedAt: new Date().toISOString(),
  });
}
