import { TOPICS } from '@reservex/contracts';
import { type MessageHandler, on, PermanentMessageError, type Queryable } from '@reservex/kit';
import { onPaymentCompleted, onPaymentFailed } from '../domain/reservation-saga.ts';
import type { SagaStages } from '../saga-stages.ts';
import { announceCancellation } from '../store/outbox-messages.ts';
import { lockReservation, markRefunded, type Reservation } from '../store/reservations.ts';
import { applyTransition } from '../use-cases/reservation-transitions.ts';

/**
 * The reservation saga as ticket-service takes part in it (RESERVATION_SAGA in system/contracts), in order:
 *
 *   1. hold the seats       POST /api/reservations, use-cases/book-seats.ts        → saga.reservation.created
 *      compensation         release the seats, on a failed payment (below), when the hold ends
 *                           (workers/hold-expiry.ts) or when the fan cancels (use-cases/reservations.ts)
 *                                                                                   → saga.reservation.cancelled
 *   2. charge the card      payment-service (messaging/payment-saga.ts there)
 *   3. confirm the booking  on saga.payment.completed (below)                      → saga.reservation.confirmed
 *   4. record the refund    on saga.payment.refunded (below)
 *
 * Each handler locks the reservation, asks the domain what this message means for it (domain/reservation-saga.ts)
 * and applies that, in the consumer's transaction with the message's id.
 */
export function reservationSaga(deps: { stages: SagaStages }): MessageHandler[] {
  const { stages } = deps;
  return [
    // 3. Confirm the booking: the money was captured.
    on(TOPICS.paymentCompleted, async (tx, message) => {
      const { reservationId, paymentId, amount, capturedAt } = message.data;
      const reservation = await locked(tx, reservationId, message.type);
      const at = new Date(capturedAt);
      const decision = onPaymentCompleted(reservation, { amount, at });
      switch (decision.kind) {
        case 'confirm':
          await applyTransition(tx, reservation, 'confirm', { paymentId, capturedAt: at });
          stages.reached('confirmed', reservation);
          return;
        case 'expire':
          // Its cancellation (reason expired) reaches payment-service, which refunds the capture.
          await applyTransition(tx, reservation, 'expire');
          stages.reached('expired');
          stages.reached('late-payment', reservation);
          return;
        case 'announce-cancellation':
          // A late payment: payment-service refunds it when it reads the cancellation. Saying so again is
          // harmless there (idempotent) and covers a cancellation it has not read yet.
          await announceCancellation(tx, reservation, decision.reason, false);
          stages.reached('late-payment', reservation);
          return;
        case 'amount-mismatch':
          throw new PermanentMessageError(
            `payment ${paymentId} captured ${decision.captured}, reservation ${reservationId} costs ${decision.expected}`,
          );
        case 'nothing':
          return;
      }
    }),

    // Compensation of 1: the payment failed, so the seats go back on sale and the reservation is cancelled.
    on(TOPICS.paymentFailed, async (tx, message) => {
      const { reservationId, reason } = message.data;
      const reservation = await locked(tx, reservationId, message.type);
      if (onPaymentFailed(reservation).kind === 'nothing') return;
      await applyTransition(tx, reservation, 'fail-payment', { paymentFailure: reason });
      stages.reached('compensated', reservation);
    }),

    // 4. Record the refund, so the fan's reservation shows it.
    on(TOPICS.paymentRefunded, async (tx, message) => {
      const reservation = await locked(tx, message.data.reservationId, message.type);
      await markRefunded(tx, reservation.id);
      stages.reached('refunded', reservation);
    }),
  ];
}

async function locked(tx: Queryable, reservationId: string, topic: string): Promise<Reservation> {
  const reservation = await lockReservation(tx, reservationId);
  // Never going to exist here: a message from another system's data, or a bug. Dead-lettered for a person.
  if (reservation === undefined)
    throw new PermanentMessageError(`${topic} for unknown reservation ${reservationId}`);
  return reservation;
}
