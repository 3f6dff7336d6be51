import { newEvent, TOPICS } from '@reservex/contracts';
import { enqueueEvent, type Queryable } from '@reservex/kit';
import type { Payment } from '../store/payments.ts';

export function publishCompleted(tx: Queryable, p: Payment) {
  return enqueueEvent(
    tx,
    newEvent(TOPICS.paymentCompleted, p.reservationId, {
      reservationId: p.reservationId,
      paymentId: p.id,
      amount: p.amount,
      capturedAt: new Date().toISOString(),
    }),
  );
}

export function publishFailed(tx: Queryable, p: Pick<Payment, 'id' | 'reservationId'>, reason: string) {
  return enqueueEvent(
    tx,
    newEvent(TOPICS.paymentFailed, p.reservationId, {
      reservationId: p.reservationId,
      paymentId: p.id,
      reason: reason as 'card-declined',
    }),
  );
}

export function publishRefunded(tx: Queryable, p: Payment) {
  return enqueueEvent(
    tx,
    newEvent(TOPICS.paymentRefunded, p.reservationId, {
      reservationId: p.reservationId,
      paymentId: p.id,
      amount: p.amount,
      refundedAt: new Date().toISOString(),
    }),
  );
}
