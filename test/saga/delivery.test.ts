import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { newMessage, TOPICS, topicsConsumedBy } from '@reservex/contracts';
import { testInfra, waitFor } from '@reservex/kit/testing';
import { readDeadLetters, replayDeadLetters } from '../../scripts/dlt.ts';
import { anEvent, type SagaStack, startSagaStack } from '../support/saga-stack.ts';

async function consumedCount(metricsUrl: string, outcome: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('saga_messages_consumed_total{') && l.includes(`outcome="${outcome}"`))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

/** Everything that decides money and seats, so a before/after comparison shows any double effect. */
async function sagaState(stack: SagaStack) {
  const ticket = await stack.ticketDb.query(
    'SELECT id, status, reason, payment_id, refunded_at IS NOT NULL AS refunded FROM reservations ORDER BY id',
  );
  const seats = await stack.ticketDb.query(
    'SELECT status, count(*)::int AS n FROM seats GROUP BY status ORDER BY status',
  );
  const payments = await stack.paymentDb.query(
    'SELECT reservation_id, status, failure_reason FROM payments ORDER BY reservation_id',
  );
  const ledger = await stack.provider.db.query('SELECT key, kind, amount FROM ledger_entries ORDER BY key');
  const outbox = await Promise.all([
    stack.ticketDb.query('SELECT count(*)::int AS n FROM outbox'),
    stack.paymentDb.query('SELECT count(*)::int AS n FROM outbox'),
  ]);
  return {
    reservations: ticket.rows,
    seats: seats.rows,
    payments: payments.rows,
    ledger: ledger.rows,
    outbox: outbox.map((o) => o.rows[0].n),
  };
}

function producer() {
  return new Producer({
    clientId: 'test',
    bootstrapBrokers: testInfra().kafkaBrokers.split(','),
    serializers: stringSerializers,
  });
}

describe('saga delivery', () => {
  let stack: SagaStack;
  before(async () => {
    stack = await startSagaStack();
  });
  after(async () => stack?.stop());

  it('every saga message delivered twice has no second effect', async function () {
    this.timeout(60_000);
    const fan = await stack.newUser();
    const event = await stack.createEvent(anEvent({ seats: 6 }));
    // One of each path: confirmed, compensated, and confirmed-then-refunded.
    const confirmed = await stack.reserve(fan.token, event.id, [event.seatIds[0]!]);
    await stack.waitForReservation(confirmed.body.id, 'CONFIRMED');
    const refunded = await stack.reserve(fan.token, event.id, [event.seatIds[1]!]);
    await stack.waitForReservation(refunded.body.id, 'CONFIRMED');
    await stack.ticket.delete(`/api/reservations/${refunded.body.id}`, { token: fan.token });
    await stack.waitForPayment(refunded.body.id, 'REFUNDED');
    await stack.setFaults({ failureRate: 1 });
    const failed = await stack.reserve(fan.token, event.id, [event.seatIds[2]!]);
    await stack.waitForReservation(failed.body.id, 'CANCELLED');
    await stack.setFaults({ failureRate: 0 });
    await waitFor(
      async () =>
        (await stack.ticketDb.query('SELECT refunded_at FROM reservations WHERE id = $1', [refunded.body.id]))
          .rows[0]?.refunded_at,
    );
    await waitFor(
      async () =>
        (await stack.ticketDb.query('SELECT 1 FROM outbox WHERE published_at IS NULL')).rowCount === 0 ||
        undefined,
    );
    await waitFor(
      async () =>
        (await stack.paymentDb.query('SELECT 1 FROM outbox WHERE published_at IS NULL')).rowCount === 0 ||
        undefined,
    );
    const before = await sagaState(stack);

    // Publish every message both services ever published again, byte for byte: what a relay that crashed after
    // sending but before marking its rows would do.
    const rows = [
      ...(await stack.ticketDb.query('SELECT topic, key, payload FROM outbox ORDER BY id')).rows,
      ...(await stack.paymentDb.query('SELECT topic, key, payload FROM outbox ORDER BY id')).rows,
    ];
    const consumed = rows.filter((r) => r.topic !== TOPICS.reservationConfirmed).length;
    const duplicatesBefore =
      (await consumedCount(`${stack.paymentUrl()}/metrics`, 'duplicate')) +
      (await consumedCount(`${stack.ticketUrl}/metrics`, 'duplicate'));
    const p = producer();
    await p.send({
      messages: rows.map((r) => ({
        topic: `${stack.prefix}${r.topic}`,
        key: r.key,
        value: JSON.stringify(r.payload),
      })),
    });
    await p.close();
    await waitFor(
      async () =>
        (await consumedCount(`${stack.paymentUrl()}/metrics`, 'duplicate')) +
          (await consumedCount(`${stack.ticketUrl}/metrics`, 'duplicate')) -
          duplicatesBefore >=
        consumed,
      { timeoutMs: 20_000, what: `${consumed} duplicates to be dropped` },
    );
    assert.deepEqual(await sagaState(stack), before);
  });

  it('a cancellation that overtakes its reservation request means the card is never charged', async () => {
    const reservationId = randomUUID();
    const eventId = randomUUID();
    const p = producer();
    await p.send({
      messages: [
        {
          topic: `${stack.prefix}${TOPICS.reservationCancelled}`,
          key: reservationId,
          value: JSON.stringify(
            newMessage(TOPICS.reservationCancelled, reservationId, {
              reservationId,
              eventId,
              reason: 'user-cancelled',
              wasConfirmed: false,
            }),
          ),
        },
      ],
    });
    await waitFor(
      async () =>
        (
          await stack.paymentDb.query('SELECT 1 FROM cancelled_reservations WHERE reservation_id = $1', [
            reservationId,
          ])
        ).rowCount === 1 || undefined,
    );
    await p.send({
      messages: [
        {
          topic: `${stack.prefix}${TOPICS.reservationCreated}`,
          key: reservationId,
          value: JSON.stringify(
            newMessage(TOPICS.reservationCreated, reservationId, {
              reservationId,
              eventId,
              userId: 'someone',
              seatIds: [randomUUID()],
              amount: 50_000,
              currency: 'KRW',
              expiresAt: new Date(Date.now() + 60_000).toISOString(),
            }),
          ),
        },
      ],
    });
    await p.close();
    const payment = await stack.waitForPayment(reservationId, 'FAILED');
    assert.equal(payment.failure_reason, 'reservation-cancelled');
    const { rowCount } = await stack.provider.db.query(
      'SELECT 1 FROM charges WHERE idempotency_key LIKE $1',
      [`%${reservationId}`],
    );
    assert.equal(rowCount, 0, 'the provider never saw a charge');
  });

  it('a malformed message goes to the dead-letter topic and the partition keeps flowing', async function () {
    this.timeout(30_000);
    const fan = await stack.newUser();
    const event = await stack.createEvent(anEvent({ seats: 2 }));
    const pending = await stack.reserve(fan.token, event.id, [event.seatIds[0]!]);
    await stack.waitForReservation(pending.body.id, 'CONFIRMED');
    const poisonKey = randomUUID();
    const p = producer();
    // Same key as the next good message, so both land on one partition, poison first.
    await p.send({
      messages: [
        { topic: `${stack.prefix}${TOPICS.paymentFailed}`, key: poisonKey, value: '{"this is": not json' },
        {
          topic: `${stack.prefix}${TOPICS.paymentFailed}`,
          key: poisonKey,
          value: JSON.stringify({
            id: randomUUID(),
            type: TOPICS.paymentFailed,
            version: 1,
            key: poisonKey,
            occurredAt: new Date().toISOString(),
            data: { reservationId: 'nope' },
          }),
        },
      ],
    });
    await p.close();
    const letters = await waitFor(
      async () => {
        const l = await readDeadLetters(
          testInfra().kafkaBrokers.split(','),
          `${stack.prefix}${TOPICS.paymentFailed}`,
        );
        return l.filter((x) => x.key === poisonKey).length === 2
          ? l.filter((x) => x.key === poisonKey)
          : undefined;
      },
      { timeoutMs: 15_000, what: 'two dead letters' },
    );
    assert.match(letters[0]!.error, /not JSON/);
    assert.match(letters[1]!.error, /reservationId/);
    assert.equal(letters[1]!.originalTopic, `${stack.prefix}${TOPICS.paymentFailed}`);
    // The partition was not blocked: a new saga still completes.
    const after = await stack.reserve(fan.token, event.id, [event.seatIds[1]!]);
    await stack.waitForReservation(after.body.id, 'CONFIRMED');
  });

  it('consumers fuzzed with malformed, oversized, wrongly typed, misaddressed and unknown-version messages dead-letter every one, apply none, and keep going', async function () {
    this.timeout(60_000);
    const before = await sagaState(stack);
    const deadBefore =
      (await consumedCount(`${stack.paymentUrl()}/metrics`, 'dead-lettered')) +
      (await consumedCount(`${stack.ticketUrl}/metrics`, 'dead-lettered'));
    const consumed = [...topicsConsumedBy('ticket-service'), ...topicsConsumedBy('payment-service')];
    const envelope = (topic: string, key: string, over: Record<string, unknown>) =>
      JSON.stringify({
        id: randomUUID(),
        type: topic,
        version: 1,
        key,
        occurredAt: new Date().toISOString(),
        data: {},
        ...over,
      });
    const uuid = () => randomUUID();
    // Data that would be valid for each topic but for the reservation, which does not exist.
    const plausible = {
      reservationId: uuid(),
      paymentId: uuid(),
      eventId: uuid(),
      userId: 'u-1',
      seatIds: [uuid()],
      amount: 100,
      currency: 'KRW',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      capturedAt: new Date().toISOString(),
      refundedAt: new Date().toISOString(),
      reason: 'card-declined',
      wasConfirmed: false,
    };
    const sent: { topic: string; key: string; kind: string }[] = [];
    const p = producer();
    for (const topic of consumed) {
      const key = uuid();
      const variants: Record<string, string> = {
        'not JSON': '{"unterminated": ',
        'JSON but no envelope': '[1, 2, 3]',
        'empty envelope': '{}',
        'wrong type for the topic': envelope(topic, key, {
          type: consumed.find((t) => t !== topic),
          data: plausible,
        }),
        'unknown version': envelope(topic, key, { version: 99, data: plausible }),
        'wrongly typed data': envelope(topic, key, {
          data: { ...plausible, reservationId: 42, amount: 'lots', seatIds: 'A1', wasConfirmed: 'yes' },
        }),
        'oversized data': envelope(topic, key, { data: { ...plausible, padding: 'x'.repeat(200_000) } }),
        // To payment-service, a reservation.created it has never heard of is simply new work: only
        // ticket-service, which owns reservations, can tell that one does not exist.
        ...(topicsConsumedBy('ticket-service').includes(topic)
          ? { 'unknown reservation': envelope(topic, key, { data: plausible }) }
          : {}),
      };
      for (const [kind, value] of Object.entries(variants)) {
        await p.send({ messages: [{ topic: `${stack.prefix}${topic}`, key, value }] });
        sent.push({ topic, key, kind });
      }
    }
    await p.close();
    const brokers = testInfra().kafkaBrokers.split(',');
    for (const topic of consumed) {
      const key = sent.find((m) => m.topic === topic)!.key;
      const expected = sent.filter((m) => m.topic === topic).length;
      await waitFor(
        async () => {
          const got = (await readDeadLetters(brokers, `${stack.prefix}${topic}`)).filter(
            (l) => l.key === key,
          );
          return got.length === expected || undefined;
        },
        {
          timeoutMs: 30_000,
          what: `${expected} dead letters on ${topic}`,
        },
      );
    }
    const deadAfter =
      (await consumedCount(`${stack.paymentUrl()}/metrics`, 'dead-lettered')) +
      (await consumedCount(`${stack.ticketUrl}/metrics`, 'dead-lettered'));
    assert.equal(deadAfter - deadBefore, sent.length, 'each one counted as dead-lettered');
    assert.deepEqual(await sagaState(stack), before, 'nothing applied, not even in part');
    // Both consumers are alive and the partitions flow: a new booking completes.
    const fan = await stack.newUser();
    const event = await stack.createEvent(anEvent({ seats: 1 }));
    const res = await stack.reserve(fan.token, event.id, [event.seatIds[0]!]);
    await stack.waitForReservation(res.body.id, 'CONFIRMED');
  });

  it('a message about a reservation that does not exist is dead-lettered at once, and a replay is processed afresh', async function () {
    this.timeout(30_000);
    // payment.completed for a reservation the ticket service has never had: no retry can make it apply.
    const reservationId = randomUUID();
    const completed = newMessage(TOPICS.paymentCompleted, reservationId, {
      reservationId,
      paymentId: randomUUID(),
      amount: 100_000,
      capturedAt: new Date().toISOString(),
    });
    const p = producer();
    await p.send({
      messages: [
        {
          topic: `${stack.prefix}${TOPICS.paymentCompleted}`,
          key: reservationId,
          value: JSON.stringify(completed),
        },
      ],
    });
    await p.close();
    const brokers = testInfra().kafkaBrokers.split(',');
    const dlt = `${stack.prefix}${TOPICS.paymentCompleted}`;
    const [letter] = await waitFor(
      async () => {
        const l = (await readDeadLetters(brokers, dlt)).filter((x) => x.messageId === completed.id);
        return l.length === 1 ? l : undefined;
      },
      { timeoutMs: 20_000, what: 'the dead letter' },
    );
    assert.equal(letter!.attempts, '1');
    assert.match(letter!.error, /unknown reservation/);
    // Replaying it unchanged fails the same way again: it is processed, not silently dropped as a duplicate.
    assert.equal(await replayDeadLetters(brokers, [letter!]), 1);
    await waitFor(
      async () =>
        (await readDeadLetters(brokers, dlt)).filter((x) => x.messageId === completed.id).length === 2
          ? true
          : undefined,
      {
        timeoutMs: 20_000,
        what: 'the replayed message to be dead-lettered again',
      },
    );
  });
});

describe('a consumer killed between its database commit and its offset commit', () => {
  it('is restarted, reads the message again, and applies it no second time', async function () {
    this.timeout(60_000);
    const stack = await startSagaStack({ withoutPayment: true });
    try {
      const fan = await stack.newUser();
      const event = await stack.createEvent(anEvent({ seats: 1 }));
      const res = await stack.reserve(fan.token, event.id, event.seatIds);
      // A real process, really killed: it exits the moment its first transaction commits.
      const child = spawn(process.execPath, ['system/payment-service/src/main.ts'], {
        env: { ...process.env, ...stack.paymentEnv({ FAULT_CRASH_AFTER_DB_COMMIT: 'true' }) },
        stdio: 'ignore',
      });
      const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(exitCode, 137);
      const { rows } = await stack.paymentDb.query('SELECT status FROM payments WHERE reservation_id = $1', [
        res.body.id,
      ]);
      assert.deepEqual(rows, [{ status: 'PROCESSING' }], 'the effect committed before the crash');

      await stack.startPayment();
      await stack.waitForReservation(res.body.id, 'CONFIRMED');
      await waitFor(
        async () =>
          (await consumedCount(`${stack.paymentUrl()}/metrics`, 'duplicate')) >= 1 ? true : undefined,
        {
          what: 'the redelivered message to be recognised',
        },
      );
      const payments = await stack.paymentDb.query('SELECT status FROM payments WHERE reservation_id = $1', [
        res.body.id,
      ]);
      assert.deepEqual(payments.rows, [{ status: 'CAPTURED' }]);
      const charges = await stack.provider.db.query('SELECT 1 FROM charges');
      assert.equal(charges.rowCount, 1);
    } finally {
      await stack.stop();
    }
  });
});
