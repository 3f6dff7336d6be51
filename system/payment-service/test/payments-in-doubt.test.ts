import assert from 'node:assert/strict';
import { TOPICS } from '@reservex/contracts';
import { waitFor } from '@reservex/kit/testing';
import { type PaymentStack, startPaymentStack } from './payment-fixture.ts';

/**
 * Every provider fault of the vocabulary, against payment-service and the provider, both real, each with its own
 * PostgreSQL database. What is checked is the money: the provider's ledger against payment-service's record.
 */
describe('payments in doubt: every provider fault, resolved from the provider’s record', () => {
  let stack: PaymentStack;
  before(async function () {
    this.timeout(60_000);
    // A 1 s deadline on each provider call keeps the faults quick to show.
    stack = await startPaymentStack({ payment: { GATEWAY_TIMEOUT_MS: '1000' } });
  });
  after(async () => stack?.stop());
  afterEach(async () => stack.provider.setFaults({}));

  const key = (reservationId: string) => `charge:${reservationId}`;

  /** The payment's end state agrees with the provider's ledger. */
  async function assertCapturedOnce(reservationId: string, amount: number) {
    assert.deepEqual(await stack.provider.moneyMoved(key(reservationId)), {
      captured: amount,
      refunded: 0,
      captures: 1,
      refunds: 0,
    });
    assert.deepEqual(await stack.sagaMessages(reservationId), [TOPICS.paymentCompleted]);
  }

  /** The capture was given back, once, and only once. */
  async function assertRefundedOnce(r: { reservationId: string; amount: number }) {
    assert.deepEqual(await stack.provider.moneyMoved(key(r.reservationId)), {
      captured: r.amount,
      refunded: r.amount,
      captures: 1,
      refunds: 1,
    });
  }

  /**
   * A payment the provider captured and whose answer was lost: IN_DOUBT, and an outage from the capture on keeps the
   * reconciler from finding out for 3 s.
   */
  async function aCaptureInDoubt() {
    await stack.provider.setFaults({ timeoutAfterCaptureRate: 1 });
    const r = await stack.reservationCreated();
    await stack.providerCaptured(r.reservationId);
    await stack.provider.outage(3);
    await stack.waitForPayment(r.reservationId, 'IN_DOUBT');
    return r;
  }

  for (const fault of [
    'timeoutAfterCaptureRate',
    'resetAfterCaptureRate',
    'errorAfterCaptureRate',
  ] as const) {
    it(`${fault}: the money moved and the answer was lost; the lookup finds the capture and the booking is paid`, async function () {
      this.timeout(30_000);
      await stack.provider.setFaults({ [fault]: 1 });
      const r = await stack.reservationCreated();
      const payment = await stack.waitForPayment(r.reservationId, 'CAPTURED');
      assert.ok(payment.in_doubt_since, 'the payment was in doubt before it was settled');
      assert.ok(payment.doubt_resolved_at >= payment.in_doubt_since);
      await assertCapturedOnce(r.reservationId, r.amount);
    });
  }

  it('a capture made before settle-by whose answer was lost, found by the reconciler after settle-by: saga.payment.completed carries the provider’s time of the capture, not the lookup’s', async function () {
    this.timeout(30_000);
    await stack.provider.setFaults({ timeoutAfterCaptureRate: 1 });
    // Settle-by is 3 s away; once the provider has captured, it answers nothing for 4 s.
    const r = await stack.reservationCreated({ holdSeconds: 2, settleWindowSeconds: 1 });
    await stack.providerCaptured(r.reservationId);
    await stack.provider.outage(4);
    const payment = await stack.waitForPayment(r.reservationId, 'CAPTURED', 20_000);
    const { rows } = await stack.provider.db.query(
      'SELECT decided_at FROM charges WHERE idempotency_key = $1',
      [key(r.reservationId)],
    );
    const capturedAt: Date = rows[0].decided_at;
    const settleBy = new Date(r.settleBy);
    assert.ok(capturedAt < settleBy, `captured in time: ${capturedAt.toISOString()} < ${r.settleBy}`);
    assert.ok(payment.doubt_resolved_at > settleBy, 'the reconciler found the capture only after settle-by');
    assert.deepEqual(payment.captured_at, capturedAt);
    const { rows: completed } = await stack.paymentDb.query(
      'SELECT payload FROM outbox WHERE key = $1 AND topic = $2',
      [r.reservationId, TOPICS.paymentCompleted],
    );
    assert.deepEqual(
      completed.map((m) => m.payload.data.capturedAt),
      [capturedAt.toISOString()],
    );
    await assertCapturedOnce(r.reservationId, r.amount);
  });

  it('timeoutRate: the request was lost before any charge; the provider never saw it, so it is charged again', async function () {
    this.timeout(30_000);
    await stack.provider.setFaults({ timeoutRate: 1 });
    const r = await stack.reservationCreated();
    // In doubt, looked up (nothing there), charged again, lost again: a few rounds of it.
    await waitFor(
      async () => {
        const { rows } = await stack.paymentDb.query(
          'SELECT in_doubt_since, attempts FROM payments WHERE reservation_id = $1',
          [r.reservationId],
        );
        return rows[0]?.in_doubt_since && rows[0].attempts >= 4 ? true : undefined;
      },
      { what: 'the payment to be charged again after a lookup found nothing' },
    );
    assert.equal(await stack.provider.chargeStatus(key(r.reservationId)), undefined);
    await stack.provider.setFaults({});
    await stack.waitForPayment(r.reservationId, 'CAPTURED');
    await assertCapturedOnce(r.reservationId, r.amount);
  });

  it('timeoutRate past the deadline: the key is voided, the payment fails, and nothing can be captured later', async function () {
    this.timeout(30_000);
    await stack.provider.setFaults({ timeoutRate: 1 });
    const r = await stack.reservationCreated({ holdSeconds: 2 });
    const payment = await stack.waitForPayment(r.reservationId, 'FAILED', 20_000);
    assert.equal(payment.failure_reason, 'gateway-timeout');
    assert.equal(await stack.provider.chargeStatus(key(r.reservationId)), 'voided');
    assert.deepEqual(await stack.sagaMessages(r.reservationId), [TOPICS.paymentFailed]);
    assert.equal((await stack.provider.moneyMoved(key(r.reservationId))).captures, 0);
  });

  it('a full outage: fast 503s are unknowns too; the payment waits it out and is paid after', async function () {
    this.timeout(30_000);
    await stack.provider.outage(3);
    const r = await stack.reservationCreated();
    await stack.waitForPayment(r.reservationId, 'IN_DOUBT');
    await stack.waitForPayment(r.reservationId, 'CAPTURED', 20_000);
    await assertCapturedOnce(r.reservationId, r.amount);
  });

  it('an answer slower than the deadline: the charge is pending at the provider, and waited for', async function () {
    this.timeout(30_000);
    await stack.provider.setFaults({ slowRate: 1, slowMs: 3000 });
    const r = await stack.reservationCreated({ settleWindowSeconds: 30 });
    await stack.waitForPayment(r.reservationId, 'IN_DOUBT');
    await stack.waitForPayment(r.reservationId, 'CAPTURED', 20_000);
    await assertCapturedOnce(r.reservationId, r.amount);
  });

  it('an answer slower than settle-by: the pending charge is voided in time, and no money ever moves', async function () {
    this.timeout(30_000);
    await stack.provider.setFaults({ slowRate: 1, slowMs: 9000 });
    // The void margin is two deadlines (2 s): with a 1 s hold and 2 s of settle window, the void comes at once.
    const r = await stack.reservationCreated({ holdSeconds: 1, settleWindowSeconds: 2 });
    const payment = await stack.waitForPayment(r.reservationId, 'FAILED', 20_000);
    assert.equal(payment.failure_reason, 'gateway-timeout');
    // The provider finishes its slow work after the void: it must not capture.
    await new Promise((resolve) => setTimeout(resolve, 9500));
    assert.equal(await stack.provider.chargeStatus(key(r.reservationId)), 'voided');
    assert.equal((await stack.provider.moneyMoved(key(r.reservationId))).captures, 0);
  });

  it('a cancellation while in doubt: a capture the lookup finds is refunded, not confirmed', async function () {
    this.timeout(30_000);
    // The outage keeps the reconciler from finding the capture until the cancellation is in.
    const r = await aCaptureInDoubt();
    await stack.reservationCancelled(r, { reason: 'expired', wasConfirmed: false });
    await stack.waitForPayment(r.reservationId, 'REFUNDED', 20_000);
    await assertRefundedOnce(r);
    assert.deepEqual(await stack.sagaMessages(r.reservationId), [TOPICS.paymentRefunded]);
  });

  for (const fault of ['refundTimeoutRate', 'refundTimeoutAfterRate'] as const) {
    it(`${fault}: a refund whose answer is lost is retried under its key until confirmed, and made once`, async function () {
      this.timeout(30_000);
      const r = await stack.reservationCreated();
      await stack.waitForPayment(r.reservationId, 'CAPTURED');
      await stack.provider.setFaults({ [fault]: 1 });
      await stack.reservationCancelled(r, { reason: 'user-cancelled', wasConfirmed: true });
      await stack.waitForPayment(r.reservationId, 'REFUNDING');
      // Let a few refund attempts lose their answers before the provider recovers.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const during = await stack.provider.moneyMoved(key(r.reservationId));
      assert.equal(
        during.refunds,
        fault === 'refundTimeoutRate' ? 0 : 1,
        'money went back only if the fault says so',
      );
      await stack.provider.setFaults({});
      await stack.waitForPayment(r.reservationId, 'REFUNDED', 20_000);
      await assertRefundedOnce(r);
    });
  }

  it('the provider dies mid-charge: its restart declines what it left pending, and the payment fails cleanly', async function () {
    this.timeout(40_000);
    await stack.provider.setFaults({ latencyMs: { min: 4000, max: 4000 } });
    const r = await stack.reservationCreated();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(await stack.provider.chargeStatus(key(r.reservationId)), 'pending');
    await stack.provider.crash();
    await stack.provider.start();
    const payment = await stack.waitForPayment(r.reservationId, 'FAILED', 20_000);
    assert.equal(payment.failure_reason, 'gateway-timeout');
    assert.equal(await stack.provider.chargeStatus(key(r.reservationId)), 'declined');
    assert.equal((await stack.provider.moneyMoved(key(r.reservationId))).captures, 0);
  });

  it('payment-service dies with payments in doubt: the next instance resolves them', async function () {
    this.timeout(40_000);
    const r = await aCaptureInDoubt();
    await stack.restartService();
    await stack.waitForPayment(r.reservationId, 'CAPTURED', 20_000);
    await assertCapturedOnce(r.reservationId, r.amount);
  });
});
