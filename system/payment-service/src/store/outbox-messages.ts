import { newMessage, type PaymentFailureReason, TOPICS } from '@reservex/contracts';
import { enqueueMessage, type Queryable } from '@reservex/kit';
import type { Payment } from './payments.ts';

// What payment-service tells the saga, written to the outbox inside the transaction that made the change.

/**
 * A captured payment, announced with the time its row holds: the provider's time of the capture, which the hold
 * rule judges against settle-by, not the time payment-service came to know of it.
 */
export function announceCapture(tx: Queryable, p: Payment) {
  if (p.capturedAt === null)
    throw new Error(`payment ${p.id} announced as captured before its capture was stamped`);
  return enqueueMessage(
    tx,
    newMessage(TOPICS.paymentCompleted, p.reservationId, {
      reservationId: p.reservationId,
      paymentId: p.id,
      amount: p.amount,
      capturedAt: p.capturedAt.toISOString(),
    }),
  );
}

export function announceFailure(
  tx: Queryable,
  p: Pick<Payment, 'id' | 'reservationId'>,
  reason: PaymentFailureReason,
) {
  return enqueueMessage(
    tx,
    newMessage(TOPICS.paymentFailed, p.reservationId, {
      reservationId: p.reservationId,
      paymentId: p.id,
      reason,
    }),
  );
}

export function announceRefund(tx: Queryable, p: Payment) {
  return enqueueMessage(
    tx,
    newMessage(TOPICS.paymentRefunded, p.reservationId, {
      reservationId: p.reservationId,
      paymentId: p.id,
      amount: p.amount,
      refundedAt: new Date().toISOString(),
    }),
  );
}
