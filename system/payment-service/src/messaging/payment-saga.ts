import { randomUUID } from 'node:crypto';
import { TOPICS } from '@reservex/contracts';
import { type MessageHandler, on } from '@reservex/kit';
import { onReservationCancelled, onReservationCreated } from '../domain/payment-saga.ts';
import { isCancelled, recordCancellation } from '../store/cancellations.ts';
import { announceFailure } from '../store/outbox-messages.ts';
import {
  lockPaymentForReservation,
  openPayment,
  refusePayment,
  transitionPayment,
} from '../store/payments.ts';

/**
 * The reservation saga as payment-service takes part in it (RESERVATION_SAGA in system/contracts), in order:
 *
 *   2. charge the card       on saga.reservation.created (below): the payment opens PROCESSING, or is refused
 *                            (FAILED, never charged) when the reservation already ended;
 *                            workers/payment-processor.ts charges it and use-cases/settle-charge.ts settles it
 *                                                                  → saga.payment.completed | saga.payment.failed
 *      compensation          refund the capture, on saga.reservation.cancelled (below), or at once when a capture
 *                            lands on an ended reservation (settle-charge); workers/refunder.ts has the gateway
 *                            refund it (a refund of 0, a free seat's, needs no gateway)
 *                                                                  → saga.payment.refunded
 *                            or, refused by the provider for good, REFUND_REFUSED for an operator (nothing published)
 *
 * Handlers only record intent inside the consumer's transaction: the gateway, which can take seconds, is called
 * by the workers.
 */
export function paymentSaga(deps: {
  processor: { wake(): void };
  refunder: { wake(): void };
}): MessageHandler[] {
  const { processor, refunder } = deps;
  return [
    // 2. Charge the card: open the payment the processor will charge.
    on(TOPICS.reservationCreated, async (tx, message) => {
      const d = message.data;
      const payment = {
        id: randomUUID(),
        reservationId: d.reservationId,
        userId: d.userId,
        eventId: d.eventId,
        amount: d.amount,
        currency: d.currency,
        holdExpiresAt: new Date(d.expiresAt),
        settleBy: new Date(d.settleBy ?? d.expiresAt),
      };
      // The cancellation can overtake the request (they travel on different topics), and a request can arrive
      // after its hold ended (payment-service was down). Either way: never charge.
      const decision = onReservationCreated({
        cancelled: await isCancelled(tx, d.reservationId),
        holdEnded: payment.holdExpiresAt.getTime() <= Date.now(),
      });
      if (decision.kind === 'refuse') {
        if (await refusePayment(tx, payment, decision.reason))
          await announceFailure(tx, payment, decision.reason);
        return;
      }
      if (await openPayment(tx, payment)) setImmediate(() => processor.wake());
    }),

    // Compensation of 2: the reservation ended; money it took goes back.
    on(TOPICS.reservationCancelled, async (tx, message) => {
      const { reservationId, reason } = message.data;
      // Recorded before the payment is locked: a settlement holding that lock either reads the cancellation
      // once it has it, or commits its capture first, and then the lock below returns it CAPTURED to refund.
      await recordCancellation(tx, reservationId, reason);
      const payment = await lockPaymentForReservation(tx, reservationId);
      if (onReservationCancelled(payment).kind === 'nothing') return;
      await transitionPayment(tx, payment!, 'refund');
      setImmediate(() => refunder.wake());
    }),
  ];
}
