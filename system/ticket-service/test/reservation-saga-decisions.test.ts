import assert from 'node:assert/strict';
import { routesStartingSaga, TOPICS, topicsConsumedBy } from '@reservex/contracts';
import fc from 'fast-check';
import {
  onCancelRequested,
  onHoldEnded,
  onPaymentCompleted,
  onPaymentFailed,
  type ReservationState,
} from '../src/domain/reservation-saga.ts';
import {
  RESERVATION_STATUSES,
  RESERVATION_TRANSITIONS,
  type ReservationStatus,
  transitionEdge,
} from '../src/domain/reservation-status.ts';
import { TICKET_OPERATIONS } from '../src/http/operations.ts';
import { reservationSaga } from '../src/messaging/reservation-saga.ts';

const SETTLE_BY = new Date('2026-11-30T12:00:30Z');
const IN_TIME = new Date('2026-11-30T12:00:10Z');
const reservation = (status: ReservationStatus, reason: string | null = null): ReservationState => ({
  status,
  amount: 150_000,
  reason,
  settleBy: SETTLE_BY,
});

describe('the reservation saga, step by step (pure decisions)', () => {
  it('payment.completed on a PENDING reservation of the same amount: confirm', () => {
    assert.deepEqual(onPaymentCompleted(reservation('PENDING'), { amount: 150_000, at: IN_TIME }), {
      kind: 'confirm',
    });
  });

  it('payment.completed captured after settle-by: the booking expires, so the capture is refunded; at settle-by exactly, it confirms', () => {
    const late = new Date(SETTLE_BY.getTime() + 1);
    assert.deepEqual(onPaymentCompleted(reservation('PENDING'), { amount: 150_000, at: late }), {
      kind: 'expire',
    });
    assert.deepEqual(onPaymentCompleted(reservation('PENDING'), { amount: 150_000, at: SETTLE_BY }), {
      kind: 'confirm',
    });
    // A wrong amount is refused whenever it was captured.
    assert.equal(onPaymentCompleted(reservation('PENDING'), { amount: 1, at: late }).kind, 'amount-mismatch');
  });

  it('payment.completed of another amount: refused as a rule broken for good', () => {
    assert.deepEqual(onPaymentCompleted(reservation('PENDING'), { amount: 1, at: IN_TIME }), {
      kind: 'amount-mismatch',
      captured: 1,
      expected: 150_000,
    });
  });

  it('payment.completed after the hold expired, the fan cancelled or a payment failed: announce why it ended, so the capture is refunded', () => {
    assert.deepEqual(
      onPaymentCompleted(reservation('EXPIRED', 'expired'), { amount: 150_000, at: IN_TIME }),
      {
        kind: 'announce-cancellation',
        reason: 'expired',
      },
    );
    assert.deepEqual(
      onPaymentCompleted(reservation('CANCELLED', 'user-cancelled'), { amount: 150_000, at: IN_TIME }),
      {
        kind: 'announce-cancellation',
        reason: 'user-cancelled',
      },
    );
    assert.deepEqual(
      onPaymentCompleted(reservation('CANCELLED', 'payment-failed'), { amount: 150_000, at: IN_TIME }),
      {
        kind: 'announce-cancellation',
        reason: 'payment-failed',
      },
    );
  });

  it('payment.completed twice: the second changes nothing', () => {
    assert.deepEqual(onPaymentCompleted(reservation('CONFIRMED'), { amount: 150_000, at: IN_TIME }), {
      kind: 'nothing',
    });
  });

  it('payment.failed on a PENDING reservation: compensate; on anything else: nothing', () => {
    assert.deepEqual(onPaymentFailed(reservation('PENDING')), { kind: 'compensate' });
    for (const status of ['CONFIRMED', 'CANCELLED', 'EXPIRED'] as const)
      assert.deepEqual(onPaymentFailed(reservation(status)), { kind: 'nothing' }, status);
  });

  it('the hold ends: a PENDING reservation expires; a decided one does not', () => {
    assert.deepEqual(onHoldEnded(reservation('PENDING')), { kind: 'expire' });
    assert.deepEqual(onHoldEnded(reservation('CONFIRMED')), { kind: 'nothing' });
  });

  it('a fan cancels: before the event starts, PENDING and CONFIRMED cancel; after, only PENDING does', () => {
    const startsAt = new Date('2026-12-01T19:00:00Z');
    const before = new Date('2026-12-01T18:59:59Z');
    for (const now of [before, startsAt, new Date('2026-12-01T21:00:00Z')])
      assert.deepEqual(onCancelRequested(reservation('PENDING'), { startsAt }, now), { kind: 'cancel' });
    assert.deepEqual(onCancelRequested(reservation('CONFIRMED'), { startsAt }, before), { kind: 'cancel' });
    assert.deepEqual(onCancelRequested(reservation('CONFIRMED'), { startsAt }, startsAt), {
      kind: 'event-started',
      startsAt,
    });
    for (const status of ['CANCELLED', 'EXPIRED'] as const)
      assert.deepEqual(
        onCancelRequested(reservation(status), { startsAt }, before),
        { kind: 'ended' },
        status,
      );
  });

  it('the consumer handles exactly the messages the saga definition gives ticket-service', () => {
    const handled = reservationSaga({ stages: { reached() {} } })
      .map((h) => h.topic)
      .sort();
    assert.deepEqual(handled, topicsConsumedBy('ticket-service'));
    assert.ok(handled.includes(TOPICS.paymentCompleted));
  });

  it('serves every route the saga definition starts a ticket-service step or compensation with', () => {
    const served = TICKET_OPERATIONS.map((o) => `${o.method.toUpperCase()} ${o.path}`);
    const starting = routesStartingSaga('ticket-service');
    // The booking, and the fan's cancellation that releases the seats.
    assert.equal(starting.length, 2);
    for (const route of starting) assert.ok(served.includes(route), `${route} is not served`);
  });
});

describe('the reservation state machine (property)', () => {
  const transition = fc.constantFrom(...RESERVATION_TRANSITIONS);

  it('from PENDING, any sequence of transitions stays inside the table: ended reservations never move again', () => {
    fc.assert(
      fc.property(fc.array(transition, { maxLength: 20 }), (sequence) => {
        let status: ReservationStatus = 'PENDING';
        let confirmations = 0;
        for (const t of sequence) {
          const edge = transitionEdge(status, t);
          if (status === 'CANCELLED' || status === 'EXPIRED') assert.equal(edge, undefined, `${status} ${t}`);
          if (edge === undefined) continue;
          // Seats are sold only on the way to CONFIRMED, and released on every other edge.
          assert.equal(edge.seats === 'sell', edge.to === 'CONFIRMED');
          // Every edge that ends a reservation says why.
          assert.equal(edge.reason === undefined, edge.to === 'CONFIRMED');
          if (edge.to === 'CONFIRMED') confirmations++;
          status = edge.to;
        }
        assert.ok(confirmations <= 1, 'confirmed twice');
        assert.ok(RESERVATION_STATUSES.includes(status));
      }),
    );
  });

  it('only the live statuses, PENDING and CONFIRMED, can move', () => {
    for (const status of RESERVATION_STATUSES) {
      const moves = RESERVATION_TRANSITIONS.filter((t) => transitionEdge(status, t) !== undefined);
      assert.equal(moves.length > 0, status === 'PENDING' || status === 'CONFIRMED', status);
    }
  });
});
