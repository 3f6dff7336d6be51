import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type CollectedSpan, type OtlpCollector, startOtlpCollector, waitFor } from '@reservex/kit/testing';
import { anEvent, type SagaStack, startSagaStack } from '../support/saga-stack.ts';

/** What a fan's app (or the load generator) does: one trace for the whole booking, sent on every request. */
function bookingTrace() {
  const traceId = randomBytes(16).toString('hex');
  const rootSpanId = randomBytes(8).toString('hex');
  return { traceId, rootSpanId, headers: { traceparent: `00-${traceId}-${rootSpanId}-01` } };
}

const SERVER = 2;
const CONSUMER = 5;

describe('one trace per booking, across HTTP and Kafka', () => {
  let collector: OtlpCollector;
  let stack: SagaStack;
  before(async function () {
    this.timeout(120_000);
    collector = await startOtlpCollector();
    const otel = {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    stack = await startSagaStack({ account: otel, ticket: otel, payment: otel });
  });
  after(async () => {
    await stack?.stop();
    await collector?.close();
  });
  afterEach(async () => stack.setFaults({ failureRate: 0 }));

  const spansOf = (traceId: string) => collector.spans.filter((s) => s.traceId === traceId);
  const find = (spans: CollectedSpan[], service: string, name: string) =>
    spans.find((s) => s.service === service && s.name === name);
  const waitForSpan = (traceId: string, service: string, name: string) =>
    waitFor(async () => find(spansOf(traceId), service, name), {
      timeoutMs: 15_000,
      what: `${service} span "${name}" in trace ${traceId}`,
    });

  /** Every span's parent is the client's root or another span of the trace: nothing hangs loose. */
  function assertConnected(spans: CollectedSpan[], rootSpanId: string) {
    const ids = new Set([rootSpanId, ...spans.map((s) => s.spanId)]);
    const loose = spans.filter((s) => !ids.has(s.parentSpanId));
    assert.deepEqual(
      loose.map((s) => `${s.service}: ${s.name}`),
      [],
      'spans whose parent is not in the trace',
    );
  }

  it('a confirmed booking: sign-in, reservation, charge and confirmation are one trace over all three services', async () => {
    const fan = await stack.newUser();
    const event = await stack.createEvent(anEvent({ seats: 2 }));
    const booking = bookingTrace();
    const login = await stack.account.api.post('/api/auth/login', {
      body: { email: fan.email, password: fan.password },
      headers: booking.headers,
    });
    assert.equal(login.status, 200);
    const res = await stack.reserve(login.body.accessToken, event.id, event.seatIds, booking.headers);
    assert.equal(res.status, 202);
    await stack.waitForReservation(res.body.id, 'CONFIRMED');

    // Each service exports on its own schedule, so each span is waited for, not just the last one.
    const confirmed = await waitForSpan(booking.traceId, 'ticket-service', 'saga.payment.completed process');
    const signIn = await waitForSpan(booking.traceId, 'account-service', 'POST /api/auth/login');
    const reserve = await waitForSpan(booking.traceId, 'ticket-service', 'POST /api/reservations');
    const consumed = await waitForSpan(
      booking.traceId,
      'payment-service',
      'saga.reservation.created process',
    );
    const charge = await waitForSpan(booking.traceId, 'payment-service', 'payment charge');
    const spans = spansOf(booking.traceId);
    assert.equal(signIn?.kind, SERVER);
    assert.equal(reserve?.kind, SERVER);
    assert.equal(consumed?.kind, CONSUMER);
    // The causal chain, hop by hop: HTTP → Kafka → the charge (via the payments row) → Kafka.
    assert.equal(reserve?.parentSpanId, booking.rootSpanId);
    assert.equal(consumed?.parentSpanId, reserve?.spanId, 'the consumer continues the reservation request');
    assert.equal(charge?.parentSpanId, consumed?.spanId, 'the charge continues the consumer step');
    assert.equal(confirmed.parentSpanId, charge?.spanId, 'the confirmation continues the charge');
    assert.equal(consumed?.attributes['reservex.outcome'], 'applied');
    assert.equal(new Set(spans.map((s) => s.service)).size, 3);
    assertConnected(spans, booking.rootSpanId);
  });

  it('a declined payment: the compensation lands in the same trace as the booking', async () => {
    await stack.setFaults({ failureRate: 1 });
    const fan = await stack.newUser();
    const event = await stack.createEvent(anEvent({ seats: 2 }));
    const booking = bookingTrace();
    const res = await stack.reserve(fan.token, event.id, event.seatIds, booking.headers);
    assert.equal(res.status, 202);
    await stack.waitForReservation(res.body.id, 'CANCELLED');
    const compensated = await waitForSpan(booking.traceId, 'ticket-service', 'saga.payment.failed process');
    const charge = await waitForSpan(booking.traceId, 'payment-service', 'payment charge');
    assert.equal(compensated.parentSpanId, charge.spanId);
    assertConnected(spansOf(booking.traceId), booking.rootSpanId);
  });

  it('an expired hold: the sweep that ends it works inside the booking trace, not a trace of its own', async () => {
    await stack.stopPayment();
    try {
      const fan = await stack.newUser();
      const event = await stack.createEvent(anEvent({ seats: 1, holdSeconds: 1 }));
      const booking = bookingTrace();
      const res = await stack.reserve(fan.token, event.id, event.seatIds, booking.headers);
      assert.equal(res.status, 202);
      await stack.waitForReservation(res.body.id, 'EXPIRED');
      const expired = await waitForSpan(booking.traceId, 'ticket-service', 'reservation hold expired');
      const reserve = find(spansOf(booking.traceId), 'ticket-service', 'POST /api/reservations');
      assert.equal(expired.parentSpanId, reserve?.spanId);
      assert.equal(expired.attributes['reservex.reservation.id'], res.body.id);
    } finally {
      await stack.startPayment();
    }
  });

  it('a request without a traceparent starts a trace of its own, which the saga still follows', async () => {
    const fan = await stack.newUser();
    const event = await stack.createEvent(anEvent({ seats: 1 }));
    const res = await stack.reserve(fan.token, event.id, event.seatIds);
    assert.equal(res.status, 202);
    await stack.waitForReservation(res.body.id, 'CONFIRMED');
    const consumed = await waitFor(
      async () =>
        collector.spans.find(
          (s) =>
            s.name === 'saga.reservation.created process' &&
            s.attributes['messaging.kafka.message.key'] === res.body.id,
        ),
      { what: 'the payment consumer span of the reservation' },
    );
    // Each service exports on its own schedule: the parent may arrive after its child.
    const reserve = await waitFor(
      async () => collector.spans.find((s) => s.spanId === consumed.parentSpanId),
      {
        what: 'the parent of the payment consumer span',
      },
    );
    assert.equal(reserve.name, 'POST /api/reservations');
    assert.equal(reserve.parentSpanId, '', 'a root span');
  });
});
