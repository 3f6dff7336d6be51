import type { Queryable } from '@reservex/kit';
import {
  type ReservationStatus,
  type ReservationTransition,
  transitionEdge,
} from '../domain/reservation-status.ts';
import { SeatsNotHeld } from '../domain/ticket-errors.ts';
import { announceCancellation, announceConfirmation } from '../store/outbox-messages.ts';
import { type Reservation, seatIdsOf, writeStatus } from '../store/reservations.ts';
import { releaseSeats, sellSeats } from '../store/seats.ts';

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
 * Applies one transition of a reservation the caller has locked: its status, its seats, and the saga message,
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
  const seatIds = await seatIdsOf(tx, reservation.id);
  if (edge.seats === 'sell') {
    const sold = await sellSeats(tx, reservation.id);
    if (sold !== seatIds.length) throw new SeatsNotHeld(reservation.id, sold, seatIds.length);
  } else await releaseSeats(tx, reservation.id);
  await writeStatus(tx, reservation.id, edge.to, { reason: edge.reason, ...details });
  if (edge.to === 'CONFIRMED') await announceConfirmation(tx, reservation, seatIds);
  else await announceCancellation(tx, reservation, edge.reason!, reservation.status === 'CONFIRMED');
  return edge.to;
}
