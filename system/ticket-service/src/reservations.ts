import { randomUUID } from 'node:crypto';
import { newEvent, TOPICS } from '@reservex/contracts';
import { enqueueEvent, isUniqueViolation, type Pool, type Principal, withTransaction } from '@reservex/kit';
import {
  AdmissionSpent,
  EventNotFound,
  IdempotencyKeyReused,
  NotCancellable,
  ReservationNotFound,
  SalesClosed,
  SalesNotOpen,
  SeatLimitReached,
  SeatUnavailable,
} from './domain/ticket-errors.ts';
import { applyTransition } from './reservation-transitions.ts';
import { findEvent } from './store/events.ts';
import {
  findByIdempotencyKey,
  findReservation,
  insertReservation,
  liveSeatCount,
  lockReservation,
  type Reservation,
  reservationsOfUser,
} from './store/reservations.ts';
import { holdSeats, type Seat, seatsOfReservation } from './store/seats.ts';

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

// Deadlock and serialization failures: the database chose a loser among concurrent holds. To the caller it is
// the same as losing the race for a seat.
const CONTENTION = new Set(['40P01', '40001']);

export function reservationUseCases(pool: Pool, wakeRelay: () => void) {
  async function view(r: Reservation): Promise<ReservationView> {
    const seats = await seatsOfReservation(pool, r.id);
    return {
      id: r.id,
      eventId: r.eventId,
      status: r.status,
      reason: r.reason ?? undefined,
      paymentFailure: r.paymentFailure ?? undefined,
      seats: seats.map(({ status: _status, ...seat }) => seat),
      amount: r.amount,
      currency: r.currency,
      expiresAt: r.expiresAt.toISOString(),
      createdAt: r.createdAt.toISOString(),
      confirmedAt: r.confirmedAt?.toISOString(),
      endedAt: r.endedAt?.toISOString(),
      refundedAt: r.refundedAt?.toISOString(),
    };
  }

  function sameRequest(r: Reservation, eventId: string, seatIds: readonly string[], seats: Seat[]): boolean {
    const held = new Set(seats.map((s) => s.id));
    return r.eventId === eventId && held.size === seatIds.length && seatIds.every((id) => held.has(id));
  }

  async function replay(userId: string, key: string, eventId: string, seatIds: readonly string[]) {
    const existing = await findByIdempotencyKey(pool, userId, key);
    if (existing === undefined) return undefined;
    const v = await view(existing);
    if (!sameRequest(existing, eventId, seatIds, v.seats as Seat[])) throw new IdempotencyKeyReused();
    return v;
  }

  return {
    view,

    /** A retry of a request that already made its reservation: answered without any other check. */
    async replayIfKnown(
      principal: Principal,
      request: { eventId: string; seatIds: string[] },
      idempotencyKey: string | undefined,
    ) {
      if (idempotencyKey === undefined) return undefined;
      return replay(principal.userId, idempotencyKey, request.eventId, [...new Set(request.seatIds)]);
    },

    /** Holds the seats and starts the saga, in one transaction. */
    async reserve(
      principal: Principal,
      request: { eventId: string; seatIds: string[] },
      idempotencyKey: string | undefined,
      admissionId?: string,
    ): Promise<{ reservation: ReservationView; replayed: boolean }> {
      const seatIds = [...new Set(request.seatIds)];
      if (idempotencyKey !== undefined) {
        const replayed = await replay(principal.userId, idempotencyKey, request.eventId, seatIds);
        if (replayed !== undefined) return { reservation: replayed, replayed: true };
      }
      try {
        const outcome = await withTransaction(pool, async (tx) => {
          const event = await findEvent(tx, request.eventId);
          if (event === undefined) throw new EventNotFound();
          if (Date.now() < event.salesOpenAt.getTime()) throw new SalesNotOpen(event.salesOpenAt);
          if (Date.now() >= event.startsAt.getTime()) throw new SalesClosed(event.startsAt);
          // One user's concurrent requests for one event queue here, so neither the per-user limit nor an
          // Idempotency-Key can be raced: whoever waited sees what the one before it committed.
          await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${principal.userId}/${event.id}`]);
          if (
            idempotencyKey !== undefined &&
            (await findByIdempotencyKey(tx, principal.userId, idempotencyKey))
          ) {
            return { replay: true as const };
          }
          const already = await liveSeatCount(tx, principal.userId, event.id);
          if (already + seatIds.length > event.maxSeatsPerUser)
            throw new SeatLimitReached(event.maxSeatsPerUser, already);
          const id = randomUUID();
          const held = await holdSeats(tx, event.id, seatIds, id);
          if (held.length !== seatIds.length) {
            const got = new Set(held.map((s) => s.id));
            throw new SeatUnavailable(seatIds.filter((s) => !got.has(s)));
          }
          const amount = held.reduce((sum, s) => sum + s.price, 0);
          const created = await insertReservation(
            tx,
            {
              id,
              eventId: event.id,
              userId: principal.userId,
              amount,
              currency: event.currency,
              holdSeconds: event.holdSeconds,
              idempotencyKey,
              admissionId,
            },
            seatIds,
          );
          await enqueueEvent(
            tx,
            newEvent(TOPICS.reservationCreated, id, {
              reservationId: id,
              eventId: event.id,
              userId: principal.userId,
              seatIds,
              amount,
              currency: event.currency,
              expiresAt: created.expiresAt.toISOString(),
            }),
          );
          return { replay: false as const, created };
        });
        if (outcome.replay) {
          const replayed = await replay(principal.userId, idempotencyKey!, request.eventId, seatIds);
          return { reservation: replayed!, replayed: true };
        }
        wakeRelay();
        return { reservation: await view(outcome.created), replayed: false };
      } catch (error) {
        if (idempotencyKey !== undefined && isUniqueViolation(error, 'reservations_idempotency_key')) {
          // The same key raced itself: the winner's reservation is the answer for both.
          const winner = await replay(principal.userId, idempotencyKey, request.eventId, seatIds);
          if (winner !== undefined) return { reservation: winner, replayed: true };
        }
        // One admission, one booking: a second request with the same admission loses to the first at the unique key.
        if (isUniqueViolation(error, 'reservations_admission_once')) throw new AdmissionSpent();
        if (CONTENTION.has((error as { code?: string }).code ?? '')) throw new SeatUnavailable(seatIds);
        throw error;
      }
    },

    async get(principal: Principal, id: string): Promise<ReservationView> {
      const r = await findReservation(pool, id);
      // Someone else's reservation is reported as missing, not forbidden: its existence is not theirs to learn.
      if (r === undefined || (r.userId !== principal.userId && !principal.roles.includes('admin'))) {
        throw new ReservationNotFound();
      }
      return view(r);
    },

    async list(principal: Principal, limit: number): Promise<ReservationView[]> {
      const rows = await reservationsOfUser(pool, principal.userId, limit);
      return Promise.all(rows.map(view));
    },

    /** PENDING: the seats are released. CONFIRMED: also refunded, by the payment service, through the saga. */
    async cancel(principal: Principal, id: string): Promise<ReservationView> {
      const cancelled = await withTransaction(pool, async (tx) => {
        const r = await lockReservation(tx, id);
        if (r === undefined || (r.userId !== principal.userId && !principal.roles.includes('admin'))) {
          throw new ReservationNotFound();
        }
        if (r.status !== 'PENDING' && r.status !== 'CONFIRMED') throw new NotCancellable(r.status);
        await applyTransition(tx, r, 'cancel');
        return r.id;
      });
      wakeRelay();
      const after = await findReservation(pool, cancelled);
      return view(after!);
    },
  };
}

export type ReservationUseCases = ReturnType<typeof reservationUseCases>;
