import { newEvent, TOPICS } from '@reservex/contracts';
import { enqueueEvent, type Queryable } from '@reservex/kit';
import {
  type ReservationStatus,
  type ReservationTransition,
  transitionEdge,
} from './domain/reservation-status.ts';
import { SeatsNotHeld } from './domain/ticket-errors.ts';
import { type Reservation, writeStatus } from './store/reservations.ts';
import { releaseSeats, sellSeats } from './store/seats.ts';

export class IllegalReservationTransition extends Error {
  constructor(from: ReservationStatus, transition: ReservationTransition) {
    super(`a ${from} reservation cannot ${transition}`);
    this.name = 'IllegalReservationTransition';
  }
}

export interface TransitionDetails {
  paymentId?: string;
  paymentFailure?: string;
}

/**
 * Applies one transition of a reservation the caller has locked: its status, its seats, and the saga event,
 * all in the caller's transaction. This is the only code that changes a reservation's status.
 */
export async function applyTransition(
  tx: Queryable,
  reservation: Reservation,
  transition: ReservationTransition,
  details: TransitionDetails = {},
): Promise<ReservationStatus> {
  const edge = transitionEdge(reservation.status, transition);
  if (edge === undefined) throw new IllegalReservationTransition(reservation.status, transition);
  const seatIds = (
    await tx.query<{ seat_id: string }>('SELECT seat_id FROM reservation_seats WHERE reservation_id = $1', [
      reservation.id,
    ])
  ).rows.map((r) => r.seat_id);
  if (edge.seats === 'sell') {
    const sold = await sellSeats(tx, reservation.id);
    if (sold !== seatIds.length) throw new SeatsNotHeld(reservation.id, sold, seatIds.length);
  } else await releaseSeats(tx, reservation.id);
  await writeStatus(tx, reservation.id, edge.to, { reason: edge.reason, ...details });
  if (edge.to === 'CONFIRMED') {
    await enqueueEvent(
      tx,
      newEvent(TOPICS.reservationConfirmed, reservation.id, {
        reservationId: reservation.id,
        eventId: reservation.eventId,
        userId: reservation.userId,
        seatIds,
        amount: reservation.amount,
      }),
    );
  } else {
    await publishCancellation(
      tx,
      reservation,
      edge.reason ?? 'user-cancelled',
      reservation.status === 'CONFIRMED',
    );
  }
  return edge.to;
}

export function publishCancellation(
  tx: Queryable,
  reservation: Reservation,
  reason: 'payment-failed' | 'expired' | 'user-cancelled',
  wasConfirmed: boolean,
) {
  return enqueueEvent(
    tx,
    newEvent(TOPICS.reservationCancelled, reservation.id, {
      reservationId: reservation.id,
      eventId: reservation.eventId,
      reason,
      wasConfirmed,
    }),
  );
}
