import assert from 'node:assert/strict';
import type { ProblemError } from '@reservex/kit';
import {
  RESERVATION_STATUSES,
  RESERVATION_TRANSITIONS,
  transitionEdge,
} from '../src/domain/reservation-status.ts';
import {
  AdmissionSpent,
  EventNotFound,
  EventStarted,
  IdempotencyKeyReused,
  NotCancellable,
  ReservationNotFound,
  SalesClosed,
  SalesNotOpen,
  SeatLimitReached,
  SeatsNotHeld,
  SeatUnavailable,
} from '../src/domain/ticket-errors.ts';

/** The body a fan reads: clients branch on the status and the type, and show the detail. */
function shape(e: ProblemError) {
  const body = e.toBody();
  return {
    status: e.status,
    slug: body.type.split('/').at(-1),
    title: body.title,
    detail: body.detail,
    ext: e.extensions,
  };
}

describe('ticket-service problems (the answers clients branch on)', () => {
  it('answers each refusal with its status, type, detail and extensions', () => {
    const at = new Date('2026-12-01T10:00:00.000Z');
    assert.deepEqual(shape(new EventNotFound()), {
      status: 404,
      slug: 'not-found',
      title: 'Not Found',
      detail: 'No such event',
      ext: {},
    });
    assert.deepEqual(shape(new ReservationNotFound()).detail, 'No such reservation');
    assert.deepEqual(shape(new SeatUnavailable(['s1', 's2'])), {
      status: 409,
      slug: 'seat-unavailable',
      title: 'Seat unavailable',
      detail: 'One or more of the seats is already held or sold',
      ext: { unavailableSeatIds: ['s1', 's2'] },
    });
    assert.deepEqual(shape(new SalesNotOpen(at)), {
      status: 409,
      slug: 'sales-not-open',
      title: 'Sales not open',
      detail: 'Sales open at 2026-12-01T10:00:00.000Z',
      ext: { salesOpenAt: '2026-12-01T10:00:00.000Z' },
    });
    assert.deepEqual(shape(new SalesClosed(at)), {
      status: 409,
      slug: 'sales-closed',
      title: 'Sales closed',
      detail: 'Sales closed when the event started at 2026-12-01T10:00:00.000Z',
      ext: { startsAt: '2026-12-01T10:00:00.000Z' },
    });
    assert.deepEqual(shape(new SeatLimitReached(4, 3)), {
      status: 409,
      slug: 'seat-limit',
      title: 'Seat limit reached',
      detail: 'At most 4 seats per user for this event; you hold 3',
      ext: { limit: 4, alreadyHeld: 3 },
    });
    assert.deepEqual(shape(new IdempotencyKeyReused()), {
      status: 422,
      slug: 'idempotency-key-reused',
      title: 'Idempotency-Key reused',
      detail: 'This Idempotency-Key was used for a different request',
      ext: {},
    });
    assert.deepEqual(shape(new NotCancellable('EXPIRED')), {
      status: 409,
      slug: 'not-cancellable',
      title: 'Not cancellable',
      detail: 'A EXPIRED reservation cannot be cancelled',
      ext: {},
    });
    assert.deepEqual(shape(new EventStarted(at)), {
      status: 409,
      slug: 'event-started',
      title: 'Event started',
      detail:
        'The event started at 2026-12-01T10:00:00.000Z; a confirmed booking can no longer be cancelled or refunded',
      ext: { startsAt: '2026-12-01T10:00:00.000Z' },
    });
    assert.deepEqual(shape(new AdmissionSpent()), {
      status: 403,
      slug: 'admission-spent',
      title: 'Forbidden',
      detail: 'This admission was already used or has lapsed; join the queue again',
      ext: {},
    });
  });

  it('names a sale of seats no longer held as a permanent message error, with the counts', () => {
    const e = new SeatsNotHeld('r-1', 1, 2);
    assert.equal(e.name, 'SeatsNotHeld');
    assert.equal(e.message, 'reservation r-1 holds 1 of its 2 seats; refusing to sell');
  });
});

describe('reservation state machine (the whole table)', () => {
  // Written out in full so that any edge added, dropped or changed in the table fails here.
  const expected: Record<string, Record<string, { to: string; seats: string; reason?: string }>> = {
    PENDING: {
      confirm: { to: 'CONFIRMED', seats: 'sell' },
      'fail-payment': { to: 'CANCELLED', seats: 'release', reason: 'payment-failed' },
      expire: { to: 'EXPIRED', seats: 'release', reason: 'expired' },
      cancel: { to: 'CANCELLED', seats: 'release', reason: 'user-cancelled' },
    },
    CONFIRMED: { cancel: { to: 'CANCELLED', seats: 'release', reason: 'user-cancelled' } },
    CANCELLED: {},
    EXPIRED: {},
  };

  it('has exactly the documented edges, each with its seat effect and reason', () => {
    for (const from of RESERVATION_STATUSES) {
      for (const t of RESERVATION_TRANSITIONS) {
        assert.deepEqual(transitionEdge(from, t), expected[from]?.[t], `${from} --${t}-->`);
      }
    }
  });
});
