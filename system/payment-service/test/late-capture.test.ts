import assert from 'node:assert/strict';
import { TOPICS } from '@reservex/contracts';
import { waitFor } from '@reservex/kit/testing';
import { type PaymentStack, startPaymentStack } from './payment-fixture.ts';

describe('a capture that lands after its payment was given up on', () => {
  let stack: PaymentStack;
  before(async function () {
    this.timeout(60_000);
    // A 1 s gateway timeout gives a 7 s lease on each charge attempt.
    stack = await startPaymentStack({ payment: { GATEWAY_TIMEOUT_MS: '1000' } });
  });
  after(async () => stack?.stop());

  it('is refunded, never dropped, when the gateway answers after the lease and the hold have both run out', async function () {
    this.timeout(60_000);
    // Set above the lease at run time (the admin API allows up to 60 s): the charge is still in flight when
    // the lease runs out, and by then the hold has ended too.
    await stack.setFaults({ failureRate: 0, latencyMs: { min: 9000, max: 9000 } });
    const reservation = await stack.reservationCreated({ holdSeconds: 4 });
    const id = reservation.reservationId;
    // ticket-service's hold ends meanwhile, and it says so.
    const holdEnds = Date.parse(reservation.expiresAt);
    await waitFor(async () => Date.now() > holdEnds, { timeoutMs: 10_000, what: 'the hold to end' });
    await stack.publish(TOPICS.reservationCancelled, id, {
      reservationId: id,
      eventId: reservation.eventId,
      reason: 'expired',
      wasConfirmed: false,
    });
    await waitFor(
      async () =>
        (
          await stack.paymentDb.query(
            "SELECT 1 FROM gateway_ledger WHERE idempotency_key = $1 AND outcome = 'captured'",
            [`charge:${id}`],
          )
        ).rowCount === 1,
      { timeoutMs: 20_000, what: 'the gateway to capture' },
    );
    const refund = await waitFor(
      async () =>
        (
          await stack.paymentDb.query(
            "SELECT amount FROM gateway_ledger WHERE idempotency_key = $1 AND kind = 'refund'",
            [`refund:${id}`],
          )
        ).rows[0],
      { timeoutMs: 20_000, what: 'the late capture to be refunded at the gateway' },
    );
    assert.equal(Number(refund.amount), reservation.amount);
    const payment = await stack.waitForPayment(id, 'REFUNDED', 20_000);
    assert.ok(payment.captured_at, 'the payment records that money was captured');
  });
});
