import assert from 'node:assert/strict';
import { testInfra, waitFor } from '@reservex/kit/testing';
import { checkInvariants } from '@reservex/loadgen';
import { anEvent, type SagaStack, startSagaStack } from '../support/saga-stack.ts';

describe('the reservation saga', () => {
  let stack: SagaStack;
  before(async () => {
    stack = await startSagaStack();
  });
  after(async () => stack?.stop());
  afterEach(async () => stack.setFaults({ failureRate: 0 }));

  it('happy path: a reservation is PENDING at once, then CONFIRMED with its seats SOLD and its payment CAPTURED', async () => {
    const fan = await stack.newUser();
    const event = await stack.createEvent(anEvent({ seats: 4 }));
    const res = await stack.reserve(fan.token, event.id, event.seatIds.slice(0, 2));
    assert.equal(res.status, 202);
    assert.equal(res.body.status, 'PENDING');
    assert.equal(res.body.amount, 200_000);
    assert.ok(new Date(res.body.expiresAt).getTime() > Date.now());

    const confirmed = await stack.waitForReservation(res.body.id, 'CONFIRMED');
    assert.ok(confirmed.payment_id);
    assert.deepEqual(await stack.seatStatuses(event.id), { SOLD: 2, AVAILABLE: 2 });
    const payment = await stack.waitForPayment(res.body.id, 'CAPTURED');
    assert.equal(Number(payment.amount), 200_000);

    const read = await stack.ticket.get(`/api/reservations/${res.body.id}`, { token: fan.token });
    assert.equal(read.body.status, 'CONFIRMED');
    const payments = await stack
      .payment()!
      .get(`/api/payments?reservationId=${res.body.id}`, { token: fan.token });
    assert.deepEqual(
      payments.body.map((p: { status: string }) => p.status),
      ['CAPTURED'],
    );
  });

  it('failed payment: the reservation is CANCELLED and its seats go back on sale (compensation)', async () => {
    await stack.setFaults({ failureRate: 1 });
    const fan = await stack.newUser();
    const event = await stack.createEvent(anEvent({ seats: 3 }));
    const res = await stack.reserve(fan.token, event.id, event.seatIds.slice(0, 2));
    assert.equal(res.status, 202);
    const cancelled = await stack.waitForReservation(res.body.id, 'CANCELLED');
    assert.equal(cancelled.reason, 'payment-failed');
    assert.match(cancelled.payment_failure, /declined|insufficient|expired|fraud/);
    assert.deepEqual(await stack.seatStatuses(event.id), { AVAILABLE: 3 });
    await stack.waitForPayment(res.body.id, 'FAILED');

    // The released seats can be bought again.
    await stack.setFaults({ failureRate: 0 });
    const again = await stack.reserve(fan.token, event.id, event.seatIds.slice(0, 2));
    assert.equal(again.status, 202);
    await stack.waitForReservation(again.body.id, 'CONFIRMED');
  });

  it('user cancel after confirmation: CANCELLED, seats released, and the payment REFUNDED through the saga', async () => {
    const fan = await stack.newUser();
    const event = await stack.createEvent(anEvent({ seats: 2 }));
    const res = await stack.reserve(fan.token, event.id, [event.seatIds[0]!]);
    await stack.waitForReservation(res.body.id, 'CONFIRMED');
    const cancel = await stack.ticket.delete(`/api/reservations/${res.body.id}`, { token: fan.token });
    assert.equal(cancel.status, 200);
    assert.equal(cancel.body.status, 'CANCELLED');
    assert.equal(cancel.body.reason, 'user-cancelled');
    assert.deepEqual(await stack.seatStatuses(event.id), { AVAILABLE: 2 });
    await stack.waitForPayment(res.body.id, 'REFUNDED');
    await waitFor(
      async () =>
        (await stack.ticketDb.query('SELECT refunded_at FROM reservations WHERE id = $1', [res.body.id]))
          .rows[0]?.refunded_at,
      { what: 'ticket-service to record the refund' },
    );
  });

  it('a free section: booked, confirmed on a capture of 0, cancelled, and REFUNDED without a refund at the provider; every invariant holds', async () => {
    const fan = await stack.newUser();
    const event = await stack.createEvent(
      anEvent({ sections: [{ name: 'Free', rows: 1, seatsPerRow: 2, price: 0 }] }),
    );
    const res = await stack.reserve(fan.token, event.id, [event.seatIds[0]!]);
    assert.equal(res.status, 202);
    assert.equal(res.body.amount, 0);
    await stack.waitForReservation(res.body.id, 'CONFIRMED');
    const cancel = await stack.ticket.delete(`/api/reservations/${res.body.id}`, { token: fan.token });
    assert.equal(cancel.status, 200);
    await stack.waitForPayment(res.body.id, 'REFUNDED');
    await waitFor(
      async () =>
        (await stack.ticketDb.query('SELECT refunded_at FROM reservations WHERE id = $1', [res.body.id]))
          .rows[0]?.refunded_at,
      { what: 'ticket-service to record the refund' },
    );
    // The provider holds the capture of 0 that confirmed the booking, and no refund: there was nothing to give back.
    assert.deepEqual(await stack.provider.moneyMoved(`charge:${res.body.id}`), {
      captured: 0,
      refunded: 0,
      captures: 1,
      refunds: 0,
    });
    const infra = testInfra();
    const results = await checkInvariants({
      ticketDb: stack.ticketDatabase.url,
      paymentDb: stack.paymentDatabase.url,
      providerDb: stack.provider.databaseUrl,
      accountDb: infra.pgAdminUrl,
      kafkaBrokers: infra.kafkaBrokers.split(','),
      topicPrefix: stack.prefix,
      eventId: event.id,
      redisUrl: infra.redisUrl,
      redisPrefix: `test:${stack.prefix}`,
    });
    assert.deepEqual(
      results.filter((r) => r.verdict === 'FAIL').map((r) => `${r.name}: ${r.detail}`),
      [],
    );
    const verdicts = new Map(results.map((r) => [r.name, r.verdict]));
    for (const name of [
      'confirmed-iff-captured',
      'late-captures-refunded',
      'no-refund-refused',
      'no-stuck-saga',
      'money-conserved',
      'provider-ledger-reconciles',
    ])
      assert.equal(verdicts.get(name), 'PASS', name);
  });

  it('user cancel before confirmation: the seats are released and no money stays captured', async () => {
    await stack.setFaults({ failureRate: 0, latencyMs: { min: 800, max: 800 } });
    const fan = await stack.newUser();
    const event = await stack.createEvent(anEvent({ seats: 2 }));
    const res = await stack.reserve(fan.token, event.id, [event.seatIds[0]!]);
    const cancel = await stack.ticket.delete(`/api/reservations/${res.body.id}`, { token: fan.token });
    assert.equal(cancel.status, 200);
    assert.equal(cancel.body.status, 'CANCELLED');
    assert.deepEqual(await stack.seatStatuses(event.id), { AVAILABLE: 2 });
    // Whichever won the race, the charge never stays captured: refunded, or never made.
    await waitFor(
      async () => {
        const { rows } = await stack.paymentDb.query('SELECT * FROM payments WHERE reservation_id = $1', [
          res.body.id,
        ]);
        return ['REFUNDED', 'FAILED'].includes(rows[0]?.status) ? rows[0] : undefined;
      },
      { what: 'the payment to end REFUNDED or FAILED' },
    );
    const money = await stack.provider.moneyMoved(`charge:${res.body.id}`);
    assert.equal(money.captured, money.refunded, 'money stayed captured');
    const again = await stack.ticket.delete(`/api/reservations/${res.body.id}`, { token: fan.token });
    assert.equal(again.status, 409);
    assert.equal(again.body.type, 'https://reservex.dev/problems/not-cancellable');
  });
});

describe('hold expiry', () => {
  it('a hold that outlives its time becomes EXPIRED and a payment that completes later is refunded', async () => {
    // A provider slower than the settle window, and a deadline on our side longer than both: the capture is an
    // answer, not a doubt, and it comes after the booking ended.
    const stack = await startSagaStack({ payment: { GATEWAY_TIMEOUT_MS: '10000' } });
    try {
      const fan = await stack.newUser();
      // Warm up: once one saga has gone round, both consumers have joined their groups.
      const warmUp = await stack.createEvent(anEvent({ seats: 1 }));
      await stack.waitForReservation(
        (await stack.reserve(fan.token, warmUp.id, warmUp.seatIds)).body.id,
        'CONFIRMED',
      );
      // The provider takes 4 s; the hold lasts 2 s and settles 1 s later. The charge starts inside the hold and
      // lands after the booking ended: late.
      await stack.setFaults({ failureRate: 0, latencyMs: { min: 4000, max: 4000 } });
      const event = await stack.createEvent(anEvent({ seats: 2, holdSeconds: 2 }));
      const res = await stack.reserve(fan.token, event.id, [event.seatIds[0]!]);
      await stack.waitForPayment(res.body.id, 'PROCESSING');
      const expired = await stack.waitForReservation(res.body.id, 'EXPIRED');
      assert.equal(expired.reason, 'expired');
      assert.deepEqual(await stack.seatStatuses(event.id), { AVAILABLE: 2 });
      const payment = await stack.waitForPayment(res.body.id, 'REFUNDED');
      assert.ok(payment.captured_at && payment.refunded_at, 'captured, then given back');
      const { rows } = await stack.provider.db.query(
        "SELECT kind, amount FROM ledger_entries WHERE charge_key = 'charge:' || $1 ORDER BY kind",
        [res.body.id],
      );
      assert.deepEqual(
        rows.map((r) => [r.kind, Number(r.amount)]),
        [
          ['capture', res.body.amount],
          ['refund', res.body.amount],
        ],
      );
    } finally {
      await stack.stop();
    }
  });

  it('nothing stays PENDING while payment-service is down: the hold expires and the seats return', async () => {
    const stack = await startSagaStack({ withoutPayment: true });
    try {
      const fan = await stack.newUser();
      const event = await stack.createEvent(anEvent({ seats: 2, holdSeconds: 1 }));
      const res = await stack.reserve(fan.token, event.id, event.seatIds);
      await stack.waitForReservation(res.body.id, 'EXPIRED');
      assert.deepEqual(await stack.seatStatuses(event.id), { AVAILABLE: 2 });
      // When payment-service comes back it reads the request and the cancellation, in either order, and never charges.
      await stack.startPayment();
      const payment = await stack.waitForPayment(res.body.id, 'FAILED');
      assert.match(payment.failure_reason, /^(reservation-cancelled|hold-expired)$/);
      const { rowCount } = await stack.provider.db.query('SELECT 1 FROM charges');
      assert.equal(rowCount, 0, 'the provider was never asked to charge');
    } finally {
      await stack.stop();
    }
  });
});
