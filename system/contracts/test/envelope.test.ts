import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ContractViolation, newMessage, parseMessage, TOPICS } from '../src/index.ts';

describe('message contracts', () => {
  const completed = () => ({
    reservationId: randomUUID(),
    paymentId: randomUUID(),
    amount: 150_000,
    capturedAt: new Date().toISOString(),
  });

  it('a message built by newMessage has an id, type, version, key and timestamp, and parses back unchanged', () => {
    const data = completed();
    const message = newMessage(TOPICS.paymentCompleted, data.reservationId, data);
    assert.match(message.id, /^[0-9a-f-]{36}$/);
    assert.equal(message.version, 1);
    assert.equal(message.key, data.reservationId);
    assert.deepEqual(parseMessage(TOPICS.paymentCompleted, JSON.stringify(message)), message);
  });

  it('refuses to build a message whose payload breaks its schema', () => {
    assert.throws(
      () => newMessage(TOPICS.paymentCompleted, 'k', { ...completed(), amount: -5 }),
      (e: Error) => e instanceof ContractViolation && /amount/.test(e.message),
    );
  });

  it('rejects at the consumer: bytes that are not JSON, a missing id, a wrong topic, an unknown version', () => {
    const good = newMessage(TOPICS.paymentCompleted, 'k', completed());
    assert.throws(() => parseMessage(TOPICS.paymentCompleted, '{nope'), /not JSON/);
    assert.throws(
      () => parseMessage(TOPICS.paymentCompleted, JSON.stringify({ ...good, id: undefined })),
      /id/,
    );
    assert.throws(
      () => parseMessage(TOPICS.paymentFailed, JSON.stringify(good)),
      /carries a message of type/,
    );
    assert.throws(
      () => parseMessage(TOPICS.paymentCompleted, JSON.stringify({ ...good, version: 9 })),
      /no version 9/,
    );
  });
});

describe('the saga definition', () => {
  it('gives each participant the topics the other publishes, and no topic without a publisher', async () => {
    const { RESERVATION_SAGA, topicsConsumedBy } = await import('../src/index.ts');
    const emitted = new Set(
      RESERVATION_SAGA.flatMap((s) => [...s.emits, ...(s.compensation ? [s.compensation.emits] : [])]),
    );
    for (const participant of ['ticket-service', 'payment-service'] as const)
      for (const topic of topicsConsumedBy(participant))
        assert.ok(emitted.has(topic), `${topic} is consumed but never emitted`);
    assert.deepEqual(
      topicsConsumedBy('payment-service'),
      [TOPICS.reservationCancelled, TOPICS.reservationCreated].sort(),
    );
    assert.deepEqual(
      topicsConsumedBy('ticket-service'),
      [TOPICS.paymentCompleted, TOPICS.paymentFailed, TOPICS.paymentRefunded].sort(),
    );
  });
});
