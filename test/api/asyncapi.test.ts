import assert from 'node:assert/strict';
import { Parser } from '@asyncapi/parser';
import { ALL_TOPICS, asyncApiDocument, type Topic } from '@reservex/contracts';
import { readTopicToEnd } from '@reservex/kit';
import { testInfra } from '@reservex/kit/testing';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { anEvent, type SagaStack, startSagaStack } from '../support/saga-stack.ts';

type Doc = ReturnType<typeof asyncApiDocument>;

/** A validator per topic, from the document's own message payloads and headers. */
function validators(doc: Doc) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const byTopic = new Map<string, { payload: (v: unknown) => string[]; headers: (v: unknown) => string[] }>();
  for (const [id, channel] of Object.entries(doc.channels) as [string, { address: string }][]) {
    const message = (doc.components.messages as Record<string, { payload: object; headers: object }>)[id];
    if (message === undefined) continue;
    const check = (schema: object) => {
      const validate = ajv.compile(schema);
      return (v: unknown) =>
        validate(v) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
    };
    byTopic.set(channel.address, { payload: check(message.payload), headers: check(message.headers) });
  }
  return byTopic;
}

/** A validator of one response of the OpenAPI document ticket-service publishes (/openapi.json). */
async function openApiResponses(stack: SagaStack) {
  const doc = (await stack.ticket.get('/openapi.json')).body as {
    paths: Record<
      string,
      Record<string, { responses: Record<string, { content: Record<string, { schema: object }> }> }>
    >;
  };
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  return (path: string, method: string, status: number) => {
    const schema = doc.paths[path]?.[method]?.responses[String(status)]?.content['application/json']?.schema;
    assert.ok(schema, `${method} ${path} ${status} has a JSON schema`);
    const validate = ajv.compile(schema);
    return (body: unknown) =>
      validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
  };
}

describe('the AsyncAPI document of the saga', () => {
  it('is a valid AsyncAPI 3.0 document (the AsyncAPI parser finds no error)', async () => {
    const { diagnostics } = await new Parser().parse(JSON.stringify(asyncApiDocument()));
    const errors = diagnostics.filter((d) => d.severity === 0);
    assert.deepEqual(
      errors.map((e) => `${e.path.join('.')}: ${e.message}`),
      [],
    );
  });

  it('has a channel for every saga topic and its dead-letter topic', () => {
    const addresses = Object.values(asyncApiDocument().channels).map(
      (c) => (c as { address: string }).address,
    );
    for (const topic of ALL_TOPICS) {
      assert.ok(addresses.includes(topic), topic);
      assert.ok(addresses.includes(`${topic}.dlt`), `${topic}.dlt`);
    }
  });

  it('refuses a message that breaks it (the check can fail)', () => {
    const check = validators(asyncApiDocument()).get('saga.payment.completed')!;
    const bad = {
      id: '00000000-0000-4000-8000-000000000000',
      type: 'saga.payment.completed',
      version: 1,
      key: 'k',
      occurredAt: '2026-11-30T10:00:00Z',
      data: {
        reservationId: 'not-a-uuid',
        paymentId: '00000000-0000-4000-8000-000000000000',
        amount: '7',
        capturedAt: 'x',
      },
    };
    assert.ok(check.payload(bad).length >= 2, 'a wrongly typed amount and a reservation id that is no uuid');
    assert.ok(check.payload({ ...bad, version: 99 }).length > 0, 'an unknown version');
  });

  describe('against what the services really publish', () => {
    let stack: SagaStack;
    before(async function () {
      this.timeout(120_000);
      stack = await startSagaStack();
    });
    after(async () => stack?.stop());

    it('every message on every saga topic matches its channel (envelope, payload, key, headers), and the HTTP answers their OpenAPI schemas', async function () {
      this.timeout(120_000);
      // A booking confirmed and then cancelled (created, completed, confirmed, cancelled, refunded), and one whose
      // payment fails (failed): every topic carries at least one message.
      const fan = await stack.newUser();
      const event = await stack.createEvent(anEvent({ seats: 2 }));
      const paid = await stack.reserve(fan.token, event.id, [event.seatIds[0]!]);
      await stack.waitForReservation(paid.body.id, 'CONFIRMED');
      // The HTTP answers, against the OpenAPI document's response schemas (strict: no field it does not name).
      const answers = await openApiResponses(stack);
      assert.deepEqual(answers('/api/reservations', 'post', 202)(paid.body), [], 'reserve');
      const read = await stack.ticket.get(`/api/reservations/${paid.body.id}`, { token: fan.token });
      assert.deepEqual(
        answers('/api/reservations/{id}', 'get', 200)(read.body),
        [],
        'a confirmed reservation',
      );
      const seats = await stack.ticket.get(`/api/events/${event.id}/seats`);
      assert.deepEqual(answers('/api/events/{id}/seats', 'get', 200)(seats.body), [], 'the seat map');
      await stack.ticket.delete(`/api/reservations/${paid.body.id}`, { token: fan.token });
      await stack.waitForPayment(paid.body.id, 'REFUNDED');
      await stack.setFaults({ failureRate: 1 });
      const failed = await stack.reserve(fan.token, event.id, [event.seatIds[1]!]);
      await stack.waitForReservation(failed.body.id, 'CANCELLED');
      await stack.setFaults({ failureRate: 0 });

      const checks = validators(asyncApiDocument());
      const brokers = testInfra().kafkaBrokers.split(',');
      const seen: Partial<Record<Topic, number>> = {};
      for (const topic of ALL_TOPICS) {
        const check = checks.get(topic)!;
        for (const record of await readTopicToEnd(brokers, `${stack.prefix}${topic}`)) {
          const payload = JSON.parse(record.value) as { key: string };
          assert.deepEqual(check.payload(payload), [], `${topic}: ${record.value}`);
          assert.deepEqual(check.headers(Object.fromEntries(record.headers)), [], `${topic} headers`);
          assert.equal(record.key, payload.key, `${topic}: the Kafka key is the envelope's key`);
          seen[topic] = (seen[topic] ?? 0) + 1;
        }
      }
      for (const topic of ALL_TOPICS) assert.ok((seen[topic] ?? 0) > 0, `no message on ${topic}`);
    });
  });
});
