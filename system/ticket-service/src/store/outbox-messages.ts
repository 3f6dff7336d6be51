import { type CancellationReason, newMessage, TOPICS } from '@reservex/contracts';
import { enqueueMessage, type Queryable } from '@reservex/kit';
import type { Reservation } from './reservations.ts';

// What ticket-service tells the saga, written to the outbox inside the transaction that made the change.

export function announceReservation(tx: Queryable, r: Reservation, seatIds: readonly string[]) {
  return enqueueMessage(
    tx,
    newMessage(TOPICS.reservationCreated, r.id, {
      reservationId: r.id,
      eventId: r.eventId,
      userId: r.userId,
      seatIds: [...seatIds],
      amount: r.amount,
      currency: r.currency,
      expiresAt: r.expiresAt.toISOString(),
      settleBy: r.settleBy.toISOString(),
    }),
  );
}

export function announceConfirmation(tx: Queryable, r: Reservation, seatIds: readonly string[]) {
  return enqueueMessage(
    tx,
    newMessage(TOPICS.reservationConfirmed, r.id, {
      reservationId: r.id,
      eventId: r.eventId,
      userId: r.userId,
      seatIds: [...seatIds],
      amount: r.amount,
    }),
  );
}

/** The reservation ended: payment-service refunds a capture, or never charges. `wasConfirmed` means it was paid. */
export function announceCancellation(
  tx: Queryable,
  r: Reservation,
  reason: CancellationReason,
  wasConfirmed: boolean,
) {
  return enqueueMessage(
    tx,
    newMessage(TOPICS.reservationCancelled, r.id, {
      reservationId: r.id,
      eventId: r.eventId,
      reason,
      wasConfirmed,
    }),
  );
}
