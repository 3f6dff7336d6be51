import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type Envelope, newMessage, TOPICS } from '@reservex/contracts';
import type { Pool } from '@reservex/kit';
import { waitFor } from '@reservex/kit/testing';
import { type PaymentSagaByHand, paymentSagaByHand } from './payment-fixture.ts';

/**
 * Each step of the saga on payment-service's side, against real PostgreSQL: given a payment in a state and what
 * arrived, expect this transition and this message in the outbox. No service runs: no processor or refunder moves
 * anything but the step under test.
 */
describe('the payment saga, step by step (real PostgreSQL)', () => {
  let saga: PaymentSagaByHand;
  let pool: Pool;
  before(async () => {
    saga = await paymentSagaByHand('payment_steps', 4);
    pool = saga.pool;
  });
  after(async () => saga?.drop());

  const deliver = (message: Envelope) => saga.deliver(message);
  const created = (holdSeconds: number) => {
    const id = randomUUID();
    return newMessage(TOPICS.reservationCreated, id, {
      reservationId: id,
      eventId: randomUUID(),
      userId: randomUUID(),
      seatIds: [randomUUID()],
      amount: 50_000,
      currency: 'KRW',
      expiresAt: new Date(Date.now() + holdSeconds * 1000).toISOString(),
    });
  };
  const cancelled = (id: string) =>
    newMessage(TOPICS.reservationCancelled, id, {
      reservationId: id,
      eventId: randomUUID(),
      reason: 'user-cancelled',
      wasConfirmed: true,
    });
  /** The provider's answer: captured, at its own time, a few seconds before payment-service records it. */
  const capturedBy = (secondsAgo: number) => ({
    kind: 'captured' as const,
    capturedAt: new Date(Date.now() - secondsAgo * 1000),
  });
  const state = async (reservationId: string) => {
    const p = (await pool.query('SELECT * FROM payments WHERE reservation_id = $1', [reservationId])).rows[0];
    const outbox = await pool.query('SELECT topic, payload FROM outbox WHERE key = $1 ORDER BY id', [
      reservationId,
    ]);
    return { payment: p, outbox: outbox.rows };
  };

  it('given a reservation whose hold already ended: FAILED (hold-expired) at once, never charged, payment.failed', async () => {
    const m = created(-1);
    await deliver(m);
    const { payment, outbox } = await state(m.data.reservationId);
    assert.equal(payment.status, 'FAILED');
    assert.equal(payment.failure_reason, 'hold-expired');
    assert.deepEqual(
      outbox.map((o) => [o.topic, o.payload.data.reason]),
      [[TOPICS.paymentFailed, 'hold-expired']],
    );
  });

  it('given a cancellation that overtook its request: the request is refused, never charged', async () => {
    const m = created(60);
    await deliver(cancelled(m.data.reservationId));
    await deliver(m);
    const { payment, outbox } = await state(m.data.reservationId);
    assert.equal(payment.status, 'FAILED');
    assert.deepEqual(
      outbox.map((o) => [o.topic, o.payload.data.reason]),
      [[TOPICS.paymentFailed, 'reservation-cancelled']],
    );
  });

  it('given CAPTURED and reservation.cancelled: REFUNDING (the refunder gives the money back), nothing published yet', async () => {
    const m = created(60);
    await deliver(m);
    const opened = (await state(m.data.reservationId)).payment;
    await saga.settleCharge(opened.id, capturedBy(1), opened.attempts);
    assert.deepEqual(
      (await state(m.data.reservationId)).outbox.map((o) => o.topic),
      [TOPICS.paymentCompleted],
    );
    await deliver(cancelled(m.data.reservationId));
    const { payment, outbox } = await state(m.data.reservationId);
    assert.equal(payment.status, 'REFUNDING');
    assert.deepEqual(
      outbox.map((o) => o.topic),
      [TOPICS.paymentCompleted],
    );
  });

  it('given PROCESSING and a capture after the reservation was cancelled: REFUNDING, no payment.completed', async () => {
    const m = created(60);
    await deliver(m);
    const opened = (await state(m.data.reservationId)).payment;
    await deliver(cancelled(m.data.reservationId));
    const answer = capturedBy(5);
    await saga.settleCharge(opened.id, answer, opened.attempts);
    const { payment, outbox } = await state(m.data.reservationId);
    assert.equal(payment.status, 'REFUNDING');
    assert.deepEqual(
      payment.captured_at,
      answer.capturedAt,
      'stamped with the provider’s time of the capture',
    );
    assert.deepEqual(outbox, []);
  });

  it('given PROCESSING and a capture: CAPTURED and payment.completed, both with the provider’s time of the capture, not the time it was recorded', async () => {
    const m = created(60);
    await deliver(m);
    const opened = (await state(m.data.reservationId)).payment;
    const answer = capturedBy(20);
    await saga.settleCharge(opened.id, answer, opened.attempts);
    const { payment, outbox } = await state(m.data.reservationId);
    assert.equal(payment.status, 'CAPTURED');
    assert.deepEqual(payment.captured_at, answer.capturedAt);
    assert.deepEqual(
      outbox.map((o) => [o.topic, o.payload.data.capturedAt]),
      [[TOPICS.paymentCompleted, answer.capturedAt.toISOString()]],
    );
  });

  it('given PROCESSING and a capture whose answer carries no time (an older provider): stamped when recorded, and announced with that stamp', async () => {
    const m = created(60);
    await deliver(m);
    const opened = (await state(m.data.reservationId)).payment;
    const before = Date.now();
    await saga.settleCharge(opened.id, { kind: 'captured', capturedAt: null }, opened.attempts);
    const { payment, outbox } = await state(m.data.reservationId);
    assert.equal(payment.status, 'CAPTURED');
    // The database's clock and this process's are the same machine's here; a second covers their rounding.
    assert.ok(
      Math.abs(payment.captured_at.getTime() - before) < 1000,
      `${payment.captured_at.toISOString()}`,
    );
    assert.deepEqual(
      outbox.map((o) => [o.topic, o.payload.data.capturedAt]),
      [[TOPICS.paymentCompleted, payment.captured_at.toISOString()]],
    );
  });

  it('given FAILED and a capture that lands late: REFUNDING, stamped with the provider’s time of the capture', async () => {
    const m = created(60);
    await deliver(m);
    const opened = (await state(m.data.reservationId)).payment;
    await saga.settleCharge(opened.id, { kind: 'declined', reason: 'gateway-timeout' }, opened.attempts);
    const answer = capturedBy(3);
    await saga.settleCharge(opened.id, answer, opened.attempts);
    const { payment, outbox } = await state(m.data.reservationId);
    assert.equal(payment.status, 'REFUNDING');
    assert.deepEqual(payment.captured_at, answer.capturedAt);
    assert.deepEqual(
      outbox.map((o) => o.topic),
      [TOPICS.paymentFailed],
    );
  });

  it('given a capture whose settlement waits on the payment while the cancellation commits: REFUNDING, no payment.completed', async () => {
    const m = created(60);
    await deliver(m);
    const opened = (await state(m.data.reservationId)).payment;
    // Client 1 plays the cancellation's consumer: it holds the payment's row lock and records the cancellation.
    const consumer = await pool.connect();
    try {
      await consumer.query('BEGIN');
      await consumer.query('SELECT 1 FROM payments WHERE id = $1 FOR UPDATE', [opened.id]);
      await consumer.query(
        "INSERT INTO cancelled_reservations (reservation_id, reason) VALUES ($1, 'expired')",
        [m.data.reservationId],
      );
      const consumerPid = (await consumer.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      // Client 2, the settlement, starts and waits for that lock.
      const settling = saga.settleCharge(opened.id, capturedBy(1), opened.attempts);
      await waitFor(
        async () =>
          (
            await pool.query('SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [
              consumerPid,
            ])
          ).rowCount === 1,
        { what: 'the settlement to wait for the payment’s row lock' },
      );
      await consumer.query('COMMIT');
      await settling;
    } finally {
      // Destroyed rather than returned: a failed wait must not leave its transaction open in the pool.
      consumer.release(true);
    }
    const { payment, outbox } = await state(m.data.reservationId);
    assert.equal(
      payment.status,
      'REFUNDING',
      'the settlement saw the cancellation that committed while it waited',
    );
    assert.deepEqual(outbox, []);
  });
});
