import { randomUUID } from 'node:crypto';
import { TOPICS } from '@reservex/contracts';
import { on } from '@reservex/kit';
import { isCancelled, recordCancellation } from '../store/cancellations.ts';
import {
  lockPaymentForReservation,
  openPayment,
  recordRefundInLedger,
  refusePayment,
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
      const payment = {
        id: randomUUID(),
        reservationId: d.reservationId,
        userId: d.userId,
        eventId: d.eventId,
        amount: d.amount,
        currency: d.currency,
        holdExpiresAt: new Date(d.expiresAt),
      };
      // The cancellation can overtake the request (they travel on different topics), and a request can arrive
      // after its hold ended (payment-service was down). Either way: never charge.
      const refusal = (await isCancelled(tx, d.reservationId))
        ? 'reservation-cancelled'
        : payment.holdExpiresAt.getTime() <= Date.now()
          ? 'hold-expired'
          : undefined;
      if (refusal !== undefined) {
        if (await refusePayment(tx, payment, refusal)) await publishFailed(tx, payment, refusal);
        return;
      }
      if (await openPayment(tx, payment)) setImmediate(wakeProcessor);
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
