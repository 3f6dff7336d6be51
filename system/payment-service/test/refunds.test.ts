import assert from 'node:assert/strict';
import { TOPICS } from '@reservex/contracts';
import { providerClient } from '../src/gateway/provider-client.ts';
import { type PaymentStack, startPaymentStack } from './payment-fixture.ts';

/**
 * Refunds end: given back (REFUNDED), or refused by the provider for good (REFUND_REFUSED), never retried for
 * ever. payment-service and the provider both real, the money checked in the provider's ledger.
 */
describe('refunds: every one ends, REFUNDED or REFUND_REFUSED', () => {
  let stack: PaymentStack;
  before(async function () {
    this.timeout(60_000);
    stack = await startPaymentStack();
  });
  after(async () => stack?.stop());

  const key = (reservationId: string) => `charge:${reservationId}`;
  const cancel = (r: { reservationId: string; eventId: string }) =>
    stack.reservationCancelled(r, { reason: 'user-cancelled', wasConfirmed: true });
  const metric = async (name: string) => {
    const text: string = (await stack.api.get('/metrics')).body;
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  };

  it('a free seat is a capture of 0 at the provider, and its refund is complete without asking: REFUNDED at once, and payment.refunded', async () => {
    const r = await stack.reservationCreated({ amount: 0 });
    await stack.waitForPayment(r.reservationId, 'CAPTURED');
    assert.deepEqual(await stack.provider.moneyMoved(key(r.reservationId)), {
      captured: 0,
      refunded: 0,
      captures: 1,
      refunds: 0,
    });
    await cancel(r);
    const payment = await stack.waitForPayment(r.reservationId, 'REFUNDED');
    assert.ok(payment.refunded_at);
    // The provider refunds only a positive amount: it was never asked, and its ledger holds the capture alone.
    assert.deepEqual(await stack.provider.moneyMoved(key(r.reservationId)), {
      captured: 0,
      refunded: 0,
      captures: 1,
      refunds: 0,
    });
    assert.deepEqual(await stack.sagaMessages(r.reservationId), [
      TOPICS.paymentCompleted,
      TOPICS.paymentRefunded,
    ]);
  });

  it('a refund the provider refuses for good is REFUND_REFUSED with its reason, asked once, counted, and nothing published', async () => {
    assert.equal(await metric('payment_refunds_refused_total'), 0, 'exposed from start-up');
    const r = await stack.reservationCreated({ amount: 30_000 });
    await stack.waitForPayment(r.reservationId, 'CAPTURED');
    // Somebody refunded the charge by hand at the provider, under another key: our own refund is now more than
    // what is left of the capture.
    const manual = await fetch(`${stack.provider.url}/v1/refunds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.provider.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        idempotencyKey: `by-hand:${r.reservationId}`,
        chargeKey: key(r.reservationId),
        amount: 30_000,
      }),
    });
    assert.equal(manual.status, 200);
    await cancel(r);
    const payment = await stack.waitForPayment(r.reservationId, 'REFUND_REFUSED');
    assert.equal(payment.refund_refusal, 'over-refund');
    assert.ok(payment.refund_refused_at);
    assert.equal(payment.refund_attempts, 1, 'asked once: a refusal is not asked again');
    assert.deepEqual(await stack.sagaMessages(r.reservationId), [TOPICS.paymentCompleted]);
    assert.equal(await metric('payment_refunds_refused_total'), 1);
    assert.equal(await metric('payments_refund_refused'), 1);
    const view = await stack.api.get(`/api/payments?reservationId=${r.reservationId}`, {
      token: stack.adminToken,
    });
    assert.deepEqual(
      view.body.map((p: { status: string; refundRefusal?: string }) => [p.status, p.refundRefusal]),
      [['REFUND_REFUSED', 'over-refund']],
    );
  });

  it('the provider client reads a refund the provider will not take (a 400) as refused, and a 422 with its reason', async () => {
    const gateway = providerClient({
      url: stack.provider.url,
      apiKey: stack.provider.apiKey,
      timeoutMs: 2000,
    });
    assert.deepEqual(await gateway.refund('refund:nothing', 'charge:nothing', 0), {
      kind: 'rejected',
      why: 'validation',
    });
    assert.deepEqual(await gateway.refund('refund:never-charged', 'charge:never-charged', 100), {
      kind: 'rejected',
      why: 'not-captured',
    });
  });
});
