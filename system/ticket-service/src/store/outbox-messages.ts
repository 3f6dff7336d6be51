import { type CancellationReason, TOPICS } from '@reservex/contracts';
import { enqueueNewMessage, type Queryable } from '@reservex/kit';
import type { Reservation } from './reservations.ts';

// What ticket-service tells the saga, written to the outbox inside the transaction that made the change.

/** The booking as the saga's messages about it name it: who booked which seats of which event, for how much. */
const booking = (r: Reservation, seatIds: readonly string[]) => ({
  reservationId: r.id,
  eventId: r.eventId,
  userId: r.userId,
  seatIds: [...seatIds],
  amount: r.amount,
});

export function announceReservation(tx: Queryable, r: Reservation, seatIds: readonly string[]) {
  return enqueueNewMessage(tx, TOPICS.reservationCreated, r.id, {
    ...booking(r, seatIds),
    currency: r.currency,
    expiresAt: r.expiresAt.toISOString(),
    settleBy: r.settleBy.toISOString(),
  });
}

export function announceConfirmation(tx: Queryable, r: Reservation, seatIds: readonly string[]) {
  return enqueueNewMessage(tx, TOPICS.reservationConfirmed, r.id, booking(r, seatIds));
}

/** The reservation ended: payment-service refunds a capture, or never charges. `wasConfirmed` means it was paid. */
export function announceCancellation(
  tx: Queryable,
  r: Reservation,
  reason: CancellationReason,
  wasConfirmed: boolean,
) {
  return enqueueNewMessage(tx, TOPICS.reservationCancelled, r.id, {
    reservationId: r.id,
    eventId: r.eventId,
    reason,
    wasConfirmed,
  });
}
