import { type Pool, type Principal, withTransaction } from '@reservex/kit';
import { onCancelRequested } from '../domain/reservation-saga.ts';
import { EventStarted, NotCancellable, ReservationNotFound } from '../domain/ticket-errors.ts';
import type { SagaStages } from '../saga-stages.ts';
import { findEvent } from '../store/events.ts';
import {
  findReservation,
  lockReservation,
  type Reservation,
  reservationsOfUser,
} from '../store/reservations.ts';
import { type Seat, seatsOfReservation } from '../store/seats.ts';
import { applyTransition } from './reservation-transitions.ts';

export interface ReservationView {
  id: string;
  eventId: string;
  status: Reservation['status'];
  reason?: string;
  paymentFailure?: string;
  seats: Array<Omit<Seat, 'status'>>;
  amount: number;
  currency: string;
  expiresAt: string;
  createdAt: string;
  confirmedAt?: string;
  endedAt?: string;
  refundedAt?: string;
}

export async function viewOf(db: Pool, r: Reservation): Promise<ReservationView> {
  return reservationView(r, await seatsOfReservation(db, r.id));
}

/** What a fan sees of a reservation with these seats, in seat-map order (section, row, number). */
export function reservationView(r: Reservation, seats: readonly Seat[]): ReservationView {
  const ordered = [...seats].sort(
    (a, b) => compareText(a.section, b.section) || compareText(a.row, b.row) || a.number - b.number,
  );
  return {
    id: r.id,
    eventId: r.eventId,
    status: r.status,
    reason: r.reason ?? undefined,
    paymentFailure: r.paymentFailure ?? undefined,
    seats: ordered.map(({ status: _status, ...seat }) => seat),
    amount: r.amount,
    currency: r.currency,
    expiresAt: r.expiresAt.toISOString(),
    createdAt: r.createdAt.toISOString(),
    confirmedAt: r.confirmedAt?.toISOString(),
    endedAt: r.endedAt?.toISOString(),
    refundedAt: r.refundedAt?.toISOString(),
  };
}

// Byte order, as the database sorts text under the C collation the cluster is created with.
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const mayRead = (principal: Principal, r: Reservation) =>
  r.userId === principal.userId || principal.roles.includes('admin');

/** Reading and cancelling reservations; booking is its own use case (book-seats.ts). */
export function reservationUseCases(deps: { pool: Pool; relay: { wake(): void }; stages: SagaStages }) {
  const { pool, relay, stages } = deps;
  return {
    async get(principal: Principal, id: string): Promise<ReservationView> {
      const r = await findReservation(pool, id);
      // Someone else's reservation is reported as missing, not forbidden: its existence is not theirs to learn.
      if (r === undefined || !mayRead(principal, r)) throw new ReservationNotFound();
      return viewOf(pool, r);
    },

    async list(principal: Principal, limit: number): Promise<ReservationView[]> {
      const rows = await reservationsOfUser(pool, principal.userId, limit);
      return Promise.all(rows.map((r) => viewOf(pool, r)));
    },

    /**
     * PENDING: the seats are released. CONFIRMED: also refunded, by the payment service, through the saga; not
     * once the event has started (onCancelRequested).
     */
    async cancel(principal: Principal, id: string): Promise<ReservationView> {
      const cancelled = await withTransaction(pool, async (tx) => {
        const r = await lockReservation(tx, id);
        if (r === undefined || !mayRead(principal, r)) throw new ReservationNotFound();
        // The reservation's foreign key keeps its event.
        const event = (await findEvent(tx, r.eventId))!;
        const decision = onCancelRequested(r, event, new Date());
        if (decision.kind === 'ended') throw new NotCancellable(r.status);
        if (decision.kind === 'event-started') throw new EventStarted(decision.startsAt);
        await applyTransition(tx, r, 'cancel');
        return r;
      });
      relay.wake();
      stages.reached('cancelled', cancelled);
      return viewOf(pool, (await findReservation(pool, cancelled.id))!);
    },
  };
}

export type ReservationUseCases = ReturnType<typeof reservationUseCases>;
