import { TOPICS } from '@reservex/contracts';
import { on } from '@reservex/kit';
import { applyTransition, publishCancellation } from '../reservation-transitions.ts';
import { lockReservation, markRefunded } from '../store/reservations.ts';

/**
 * The ticket side of the saga: how a reservation answers what the payment service reports. Each outcome is
 * reported with the time since the reservation was made, which is the saga's duration up to that stage.
 */
export function ticketSagaHandlers(onOutcome: (stage: string, sinceCreatedSeconds: number) => void) {
  const since = (r: { createdAt: Date }) => (Date.now() - r.createdAt.getTime()) / 1000;
  return [
    on(TOPICS.paymentCompleted, async (tx, event) => {
      const { reservationId, paymentId, amount } = event.data;
      const reservation = await lockReservation(tx, reservationId);
      if (reservation === undefined)
        throw new Error(`payment.completed for unknown reservation ${reservationId}`);
      if (reservation.status === 'PENDING') {
        if (amount !== reservation.amount) {
          throw new Error(
            `payment ${paymentId} captured ${amount}, reservation ${reservationId} costs ${reservation.amount}`,
          );
        }
        await applyTransition(tx, reservation, 'confirm', { paymentId });
        onOutcome('confirmed', since(reservation));
        return;
      }
      if (reservation.status === 'CANCELLED' || reservation.status === 'EXPIRED') {
        // A late payment. The payment service refunds it when it reads the cancellation; saying so again is
        // harmless there (idempotent) and covers a cancellation it has not read yet.
        await publishCancellation(
          tx,
          reservation,
          reservation.status === 'EXPIRED' ? 'expired' : 'user-cancelled',
          false,
        );
        onOutcome('late-payment', since(reservation));
      }
    }),

    on(TOPICS.paymentFailed, async (tx, event) => {
      const { reservationId, reason } = event.data;
      const reservation = await lockReservation(tx, reservationId);
      if (reservation === undefined)
        throw new Error(`payment.failed for unknown reservation ${reservationId}`);
      if (reservation.status !== 'PENDING') return;
      // Compensation: the seats go back on sale and the reservation is cancelled.
      await applyTransition(tx, reservation, 'fail-payment', { paymentFailure: reason });
      onOutcome('compensated', since(reservation));
    }),

    on(TOPICS.paymentRefunded, async (tx, event) => {
      const reservation = await lockReservation(tx, event.data.reservationId);
      if (reservation === undefined)
        throw new Error(`payment.refunded for unknown reservation ${event.data.reservationId}`);
      await markRefunded(tx, reservation.id);
      onOutcome('refunded', since(reservation));
    }),
  ];
}
