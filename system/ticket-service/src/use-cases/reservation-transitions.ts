import type { Queryable } from '@reservex/kit';
import {
  type ReservationStatus,
  type ReservationTransition,
  transitionEdge,
} from '../domain/reservation-status.ts';
import { SeatsNotHeld } from '../domain/ticket-errors.ts';
import { announceCancellation, announceConfirmation } from '../store/outbox-messages.ts';
import { type Reservation, writeTransition } from '../store/reservations.ts';

export class IllegalReservationTransition extends Error {
  constructor(from: ReservationStatus, transition: ReservationTransition) {
    super(`a ${from} reservation cannot ${transition}`);
    this.name = 'IllegalReservationTransition';
  }
}

export interface TransitionDetails {
  paymentId?: string;
  paymentFailure?: string;
  /** When payment-service captured the money: what the hold rule judges a confirmation by. */
  capturedAt?: Date;
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
  const { seatIds, moved } = await writeTransition(tx, reservation.id, edge.seats, edge.to, {
    reason: edge.reason,
    ...details,
  });
  // Throwing rolls the whole transition back: a sale of fewer seats than were booked never commits.
  if (edge.seats === 'sell' && moved !== seatIds.length)
    throw new SeatsNotHeld(reservation.id, moved, seatIds.length);
  if (edge.to === 'CONFIRMED') await announceConfirmation(tx, reservation, seatIds);
  else await announceCancellation(tx, reservation, edge.reason!, reservation.status === 'CONFIRMED');
  return edge.to;
}
