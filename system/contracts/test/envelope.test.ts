import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ContractViolation, newEvent, parseEvent, TOPICS } from '../src/index.ts';

describe('event contracts', () => {
  const completed = () => ({
    reservationId: randomUUID(),
    paymentId: randomUUID(),
    amount: 150_000,
    capturedAt: new Date().toISOString(),
  });

  it('an event built by newEvent has an id, type, version, key and timestamp, and parses back unchanged', () => {
    const data = completed();
    const event = newEvent(TOPICS.paymentCompleted, data.reservationId, data);
    assert.match(event.id, /^[0-9a-f-]{36}$/);
    assert.equal(event.version, 1);
    assert.equal(event.key, data.reservationId);
    assert.deepEqual(parseEvent(TOPICS.paymentCompleted, JSON.stringify(event)), event);
  });

  it('refuses to build an event whose payload breaks its schema', () => {
    assert.throws(
      () => newEvent(TOPICS.paymentCompleted, 'k', { ...completed(), amount: -5 }),
      (e: Error) => e instanceof ContractViolation && /amount/.test(e.message),
    );
  });

  it('rejects at the consumer: bytes that are not JSON, a missing id, a wrong topic, an unknown version', () => {
    const good = newEvent(TOPICS.paymentCompleted, 'k', completed());
    assert.throws(() => parseEvent(TOPICS.paymentCompleted, '{nope'), /not JSON/);
    assert.throws(
      () => parseEvent(TOPICS.paymentCompleted, JSON.stringify({ ...good, id: undefined })),
      /id/,
    );
    assert.throws(() => parseEvent(TOPICS.paymentFailed, JSON.stringify(good)), /carries an event of type/);
    assert.throws(
      () => parseEvent(TOPICS.paymentCompleted, JSON.stringify({ ...good, version: 9 })),
      /no version 9/,
    );
  });
});
