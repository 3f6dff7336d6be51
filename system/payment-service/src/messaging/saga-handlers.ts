import { randomUUID } from 'node:crypto';
import { TOPICS } from '@reservex/contracts';
import { on } from '@reservex/kit';
import { isCancelled, recordCancellation } from '../store/cancellations.ts';
import {
  lockPaymentForReservation,
  openPayment,
  recordRefundInLedger,
  transitionPayment,
} from '../store/payments.ts';
import { publishFailed, publishRefunded } from './payment-events.ts';

/**
 * The payment side of the saga. Handlers only record intent and compensations inside the consumer's
 * transaction; the charge itself, which waits on the gateway, runs in the payment processor.
 */
export function paymentSagaHandlers(wakeProcessor: () => void) {
  return [
    on(TOPICS.reservationCreated, async (tx, event) => {
      const d = event.data;
      if (await isCancelled(tx, d.reservationId)) {
        // The cancellation overtook the request (they travel on different topics): never charge.
        const id = randomUUID();
        const opened = await tx.query(
          `INSERT INTO payments (id, reservation_id, user_id, event_id, amount, currency, status, failure_reason, failed_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'FAILED', 'reservation-cancelled', now()) ON CONFLICT (reservation_id) DO NOTHING`,
          [id, d.reservationId, d.userId, d.eventId, d.amount, d.currency],
        );
        if (opened.rowCount === 1)
          await publishFailed(tx, { id, reservationId: d.reservationId }, 'reservation-cancelled');
        return;
      }
      const opened = await openPayment(tx, {
        id: randomUUID(),
        reservationId: d.reservationId,
        userId: d.userId,
        eventId: d.eventId,
        amount: d.amount,
        currency: d.currency,
      });
      if (opened) setImmediate(wakeProcessor);
    }),

    on(TOPICS.reservationCancelled, async (tx, event) => {
      const { reservationId, reason } = event.data;
      await recordCancellation(tx, reservationId, reason);
      const payment = await lockPaymentForReservation(tx, reservationId);
      // PROCESSING: the processor sees the cancellation when the charge returns. None yet: the request will see it.
      if (payment?.status !== 'CAPTURED') return;
      await recordRefundInLedger(tx, payment);
      await transitionPayment(tx, payment, 'refund');
      await publishRefunded(tx, payment);
    }),
  ];
}
