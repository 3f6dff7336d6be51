import { randomUUID } from 'node:crypto';
import type { Logger, Pool, Principal } from '@reservex/kit';
import {
  EventNotFound,
  IdempotencyKeyReused,
  SalesClosed,
  SalesNotOpen,
  SeatLimitReached,
  SeatUnavailable,
} from '../domain/ticket-errors.ts';
import type { SagaStages } from '../saga-stages.ts';
import { findEventForFan } from '../store/events.ts';
import { announceReservation } from '../store/outbox-messages.ts';
import {
  findByIdempotencyKey,
  inBookingTransaction,
  insertReservation,
  lockBooker,
  type Reservation,
} from '../store/reservations.ts';
import { holdSeats } from '../store/seats.ts';
import { type ReservationView, reservationView, viewOf } from './reservations.ts';
import type { WaitingRoom } from './waiting-room.ts';

export interface BookingRequest {
  eventId: string;
  seatIds: string[];
}

export interface Booking {
  reservation: ReservationView;
  /** The Idempotency-Key had made this reservation before: nothing new was done. */
  replayed: boolean;
}

export interface BookSeatsDeps {
  pool: Pool;
  room: Pick<WaitingRoom, 'admit' | 'freeSlot'>;
  relay: { wake(): void };
  stages: SagaStages;
  logger: Logger;
  /** How long past the fan's deadline a payment that started in time may still land (docs/saga.md). */
  settleWindowSeconds: number;
}

/**
 * The first step of the saga: a fan books seats. In one transaction, under a lock per (fan, event) so that one
 * fan's parallel requests queue here:
 *
 * 1. A retry of a request that already made its reservation (same Idempotency-Key) gets that reservation back, and
 *    nothing else is checked: its admission is spent by then.
 * 2. The event is on sale, and for an event sold through its waiting room, the admission token is this fan's live
 *    admission.
 * 3. The seats are held, the PENDING reservation is written with its admission (a unique key: one booking per
 *    admission), and saga.reservation.created goes into the outbox. A crash before the commit leaves nothing;
 *    after it, everything, and the relay publishes it.
 *
 * Then the admission's slot is freed for the next fan. The booking already spent the admission durably, so if Redis
 * cannot take this write now, the slot lapses on its own a little later.
 */
export function bookSeats(deps: BookSeatsDeps) {
  const { pool, room, relay, stages, logger } = deps;

  async function replay(
    existing: Reservation,
    request: BookingRequest,
    seatIds: readonly string[],
  ): Promise<Booking> {
    const view = await viewOf(pool, existing);
    const held = new Set(view.seats.map((s) => s.id));
    const same =
      existing.eventId === request.eventId &&
      held.size === seatIds.length &&
      seatIds.every((id) => held.has(id));
    if (!same) throw new IdempotencyKeyReused();
    return { reservation: view, replayed: true };
  }

  return async function book(
    principal: Principal,
    request: BookingRequest,
    idempotencyKey: string | undefined,
    admissionToken: string | undefined,
  ): Promise<Booking> {
    const seatIds = [...new Set(request.seatIds)];
    const outcome = await inBookingTransaction(pool, seatIds, async (tx) => {
      await lockBooker(tx, principal.userId, request.eventId);
      if (idempotencyKey !== undefined) {
        const existing = await findByIdempotencyKey(tx, principal.userId, idempotencyKey);
        if (existing !== undefined) return { kind: 'replay' as const, existing };
      }
      const found = await findEventForFan(tx, request.eventId, principal.userId);
      if (found === undefined) throw new EventNotFound();
      const { event, fanSeats: already } = found;
      const now = Date.now();
      if (now < event.salesOpenAt.getTime()) throw new SalesNotOpen(event.salesOpenAt);
      if (now >= event.startsAt.getTime()) throw new SalesClosed(event.startsAt);
      const admission = await room.admit(principal, event, admissionToken);
      if (already + seatIds.length > event.maxSeatsPerUser)
        throw new SeatLimitReached(event.maxSeatsPerUser, already);
      const id = randomUUID();
      const held = await holdSeats(tx, event.id, seatIds, id);
      if (held.length !== seatIds.length) {
        const got = new Set(held.map((s) => s.id));
        throw new SeatUnavailable(seatIds.filter((s) => !got.has(s)));
      }
      const created = await insertReservation(
        tx,
        {
          id,
          eventId: event.id,
          userId: principal.userId,
          amount: held.reduce((sum, s) => sum + s.price, 0),
          currency: event.currency,
          holdSeconds: event.holdSeconds,
          settleWindowSeconds: deps.settleWindowSeconds,
          idempotencyKey,
          admissionId: admission?.tokenId,
        },
        seatIds,
      );
      await announceReservation(tx, created, seatIds);
      return { kind: 'booked' as const, created, held, admission };
    });
    if (outcome.kind === 'replay') return replay(outcome.existing, request, seatIds);
    const { created, held, admission } = outcome;
    relay.wake();
    stages.reached('created');
    if (admission !== undefined) {
      await room
        .freeSlot(principal, request.eventId, admission.tokenId)
        .catch((error: Error) =>
          logger.warn(
            { err: error, reservationId: created.id },
            'booked; the admission slot could not be freed in Redis now and will lapse on its own',
          ),
        );
    }
    // The seats it holds are the ones just held: no need to read them back.
    return { reservation: reservationView(created, held), replayed: false };
  };
}

export type BookSeats = ReturnType<typeof bookSeats>;
