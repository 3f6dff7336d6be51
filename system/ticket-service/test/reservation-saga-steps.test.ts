import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type Envelope, newMessage, TOPICS, type Topic } from '@reservex/contracts';
import { applyOnce, type MessageHandler, PermanentMessageError } from '@reservex/kit';
import { waitFor } from '@reservex/kit/testing';
import { reservationSaga } from '../src/messaging/reservation-saga.ts';
import { anEvent, startTicketStack, type TicketStack } from './ticket-fixture.ts';

/**
 * Each step of the saga on ticket-service's side, against real PostgreSQL: given a reservation in a state and a
 * message, expect this transition, these seats, and this message in the outbox.
 */
describe('the reservation saga, step by step (real PostgreSQL)', () => {
  let stack: TicketStack;
  const handlers = new Map<Topic, MessageHandler>();
  before(async function () {
    this.timeout(60_000);
    stack = await startTicketStack();
    for (const h of reservationSaga({ stages: { reached() {} } })) handlers.set(h.topic, h);
  });
  after(async () => stack?.stop());

  async function aPendingReservation(seats = 2) {
    const fan = await stack.newUser();
    const event = await stack.createEvent(anEvent({ seats }));
    const res = await stack.reserve(fan.token, event.id, event.seatIds);
    assert.equal(res.status, 202);
    return { id: res.body.id as string, amount: res.body.amount as number, eventId: event.id };
  }
  const deliver = (message: Envelope) => applyOnce(stack.ticketDb, handlers.get(message.type)!, message);
  const state = async (id: string) => {
    const r = (await stack.ticketDb.query('SELECT * FROM reservations WHERE id = $1', [id])).rows[0];
    const seats = await stack.ticketDb.query(
      'SELECT s.status FROM reservation_seats rs JOIN seats s ON s.id = rs.seat_id WHERE rs.reservation_id = $1',
      [id],
    );
    const outbox = await stack.ticketDb.query(
      "SELECT topic, payload FROM outbox WHERE key = $1 AND topic <> 'saga.reservation.created' ORDER BY id",
      [id],
    );
    return {
      status: r.status,
      reason: r.reason,
      refunded: r.refunded_at !== null,
      seats: seats.rows.map((s) => s.status),
      outbox: outbox.rows,
    };
  };
  const completed = (id: string, amount: number) =>
    newMessage(TOPICS.paymentCompleted, id, {
      reservationId: id,
      paymentId: randomUUID(),
      amount,
      capturedAt: new Date().toISOString(),
    });

  it('given PENDING and payment.completed: CONFIRMED, seats SOLD, reservation.confirmed in the outbox', async () => {
    const r = await aPendingReservation();
    await deliver(completed(r.id, r.amount));
    const after = await state(r.id);
    assert.equal(after.status, 'CONFIRMED');
    assert.deepEqual(after.seats, ['SOLD', 'SOLD']);
    assert.deepEqual(
      after.outbox.map((m) => m.topic),
      [TOPICS.reservationConfirmed],
    );
  });

  it('given PENDING and payment.failed: CANCELLED (payment-failed), seats AVAILABLE, reservation.cancelled in the outbox', async () => {
    const r = await aPendingReservation();
    await deliver(
      newMessage(TOPICS.paymentFailed, r.id, {
        reservationId: r.id,
        paymentId: randomUUID(),
        reason: 'card-declined',
      }),
    );
    const after = await state(r.id);
    assert.equal(after.status, 'CANCELLED');
    assert.equal(after.reason, 'payment-failed');
    assert.deepEqual(after.seats, ['AVAILABLE', 'AVAILABLE']);
    assert.deepEqual(
      after.outbox.map((m) => [m.topic, m.payload.data.reason, m.payload.data.wasConfirmed]),
      [[TOPICS.reservationCancelled, 'payment-failed', false]],
    );
  });

  it('the hold rule: a reservation outlives its deadline by the settle window, carries both instants, and a payment landing in the window confirms it', async () => {
    const r = await aPendingReservation();
    const { rows } = await stack.ticketDb.query(
      "SELECT expires_at, settle_by, (SELECT payload FROM outbox WHERE key = $1::text AND topic = 'saga.reservation.created') AS created FROM reservations WHERE id = $1::uuid",
      [r.id],
    );
    // The fixture's ticket-service runs with the default window of 30 s.
    assert.equal(rows[0].settle_by.getTime() - rows[0].expires_at.getTime(), 30_000);
    assert.equal(rows[0].created.data.expiresAt, rows[0].expires_at.toISOString());
    assert.equal(rows[0].created.data.settleBy, rows[0].settle_by.toISOString());
    // Past the fan's deadline, inside the window: the sweep (every 100 ms here) leaves it alone.
    await stack.ticketDb.query(
      "UPDATE reservations SET expires_at = now() - interval '2 seconds', settle_by = now() + interval '20 seconds' WHERE id = $1",
      [r.id],
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await state(r.id)).status, 'PENDING');
    await deliver(completed(r.id, r.amount));
    assert.equal((await state(r.id)).status, 'CONFIRMED');
  });

  it('given PENDING and a payment.completed captured after settle-by: EXPIRED, seats released, and the cancellation sent so the capture is refunded', async () => {
    const r = await aPendingReservation();
    // Settle-by a minute away: the sweep leaves it; the capture's own time is what counts.
    const { rows } = await stack.ticketDb.query(
      "UPDATE reservations SET settle_by = now() + interval '1 minute' WHERE id = $1 RETURNING settle_by",
      [r.id],
    );
    const late = newMessage(TOPICS.paymentCompleted, r.id, {
      reservationId: r.id,
      paymentId: randomUUID(),
      amount: r.amount,
      capturedAt: new Date(rows[0].settle_by.getTime() + 1000).toISOString(),
    });
    await deliver(late);
    const after = await state(r.id);
    assert.equal(after.status, 'EXPIRED');
    assert.deepEqual(after.seats, ['AVAILABLE', 'AVAILABLE']);
    assert.deepEqual(
      after.outbox.map((m) => [m.topic, m.payload.data.reason]),
      [[TOPICS.reservationCancelled, 'expired']],
    );
  });

  it('a capture made by settle-by confirms however late it is read, and keeps its own time', async () => {
    const r = await aPendingReservation();
    const capturedAt = new Date(Date.now() - 5000);
    await stack.ticketDb.query(
      "UPDATE reservations SET settle_by = $2, expires_at = $2::timestamptz - interval '30 seconds' WHERE id = $1",
      [r.id, new Date(Date.now() + 60_000)],
    );
    await deliver(
      newMessage(TOPICS.paymentCompleted, r.id, {
        reservationId: r.id,
        paymentId: randomUUID(),
        amount: r.amount,
        capturedAt: capturedAt.toISOString(),
      }),
    );
    const { rows } = await stack.ticketDb.query(
      'SELECT status, captured_at FROM reservations WHERE id = $1',
      [r.id],
    );
    assert.equal(rows[0].status, 'CONFIRMED');
    assert.equal(rows[0].captured_at.getTime(), capturedAt.getTime());
  });

  it('the hold rule: a capture made by settle-by and queued while the consumer is stalled, for longer than any busy window, still confirms; the sweep waits for it, at most HOLD_MAX_EXTENSION_SECONDS', async function () {
    this.timeout(60_000);
    const paid = await aPendingReservation();
    const beyond = await aPendingReservation();
    const marker = await aPendingReservation();
    const settleBy = new Date(Date.now() + 1500);
    await stack.ticketDb.query(
      "UPDATE reservations SET settle_by = $2, expires_at = $2::timestamptz - interval '30 seconds' WHERE id = $1",
      [paid.id, settleBy],
    );
    const consumer = stack.ticketService.consumer;
    await consumer.stop();
    try {
      const capturedAt = new Date();
      await stack.publish(TOPICS.paymentCompleted, paid.id, {
        reservationId: paid.id,
        paymentId: randomUUID(),
        amount: paid.amount,
        capturedAt: capturedAt.toISOString(),
      });
      // Past the longest extension (60 s by default): expired whatever is queued.
      await stack.ticketDb.query(
        "UPDATE reservations SET expires_at = now() - interval '100 seconds', settle_by = now() - interval '61 seconds' WHERE id = $1",
        [beyond.id],
      );
      await stack.waitForReservation(beyond.id, 'EXPIRED');
      // The stall lasts 6.5 s past the paid booking's settle-by (the old busy window was 3 s, the publish grace is
      // 2 s); then a hold at its bound expires, so the sweep was running all along.
      const stallEnds = settleBy.getTime() + 6500;
      await waitFor(async () => Date.now() >= stallEnds, { timeoutMs: 15_000, what: 'the stall' });
      await stack.ticketDb.query(
        "UPDATE reservations SET expires_at = now() - interval '100 seconds', settle_by = now() - interval '61 seconds' WHERE id = $1",
        [marker.id],
      );
      await stack.waitForReservation(marker.id, 'EXPIRED');
      assert.equal((await state(paid.id)).status, 'PENDING', 'its capture is queued: the hold is extended');
      await consumer.start();
      const confirmed = await stack.waitForReservation(paid.id, 'CONFIRMED');
      assert.equal(confirmed.captured_at.getTime(), capturedAt.getTime());
    } finally {
      await consumer.start();
    }
  });

  it('the hold rule: with its results consumed, a hold ends soon after its settle-by (the publish grace), not at the bound', async () => {
    const r = await aPendingReservation();
    const settleBy = new Date(Date.now() - 100);
    await stack.ticketDb.query(
      "UPDATE reservations SET settle_by = $2, expires_at = $2::timestamptz - interval '30 seconds' WHERE id = $1",
      [r.id, settleBy],
    );
    const expired = await stack.waitForReservation(r.id, 'EXPIRED', 20_000);
    const late = expired.ended_at.getTime() - settleBy.getTime();
    assert.ok(late >= 2000, `ended ${late} ms after settle-by: before the publish grace (2 s)`);
    assert.ok(late < 30_000, `ended ${late} ms after settle-by: as if results were behind`);
  });

  it('given EXPIRED and a late payment.completed: still EXPIRED, and reservation.cancelled (expired) again, so it is refunded', async () => {
    const r = await aPendingReservation();
    await stack.ticketDb.query(
      "UPDATE reservations SET expires_at = now() - interval '1 second', settle_by = now() - interval '1 second' WHERE id = $1",
      [r.id],
    );
    await stack.waitForReservation(r.id, 'EXPIRED');
    await deliver(completed(r.id, r.amount));
    const after = await state(r.id);
    assert.equal(after.status, 'EXPIRED');
    assert.deepEqual(
      after.outbox.map((m) => [m.topic, m.payload.data.reason]),
      [
        [TOPICS.reservationCancelled, 'expired'],
        [TOPICS.reservationCancelled, 'expired'],
      ],
    );
  });

  it('given CONFIRMED and payment.refunded: the refund is recorded, and nothing more is said', async () => {
    const r = await aPendingReservation();
    await deliver(completed(r.id, r.amount));
    await deliver(
      newMessage(TOPICS.paymentRefunded, r.id, {
        reservationId: r.id,
        paymentId: randomUUID(),
        amount: r.amount,
        refundedAt: new Date().toISOString(),
      }),
    );
    const after = await state(r.id);
    assert.equal(after.refunded, true);
    assert.deepEqual(
      after.outbox.map((m) => m.topic),
      [TOPICS.reservationConfirmed],
    );
  });

  it('given PENDING and a payment.completed of the wrong amount: refused for good, nothing changes', async () => {
    const r = await aPendingReservation();
    await assert.rejects(deliver(completed(r.id, r.amount + 1)), PermanentMessageError);
    const after = await state(r.id);
    assert.equal(after.status, 'PENDING');
    assert.deepEqual(after.outbox, []);
  });
});
