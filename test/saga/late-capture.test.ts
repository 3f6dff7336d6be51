import assert from 'node:assert/strict';
import { waitFor } from '@reservex/kit/testing';
import { anEvent, type SagaStack, startSagaStack } from '../support/saga-stack.ts';

describe('a capture that lands after its payment was given up on', () => {
  let stack: SagaStack;
  before(async function () {
    this.timeout(60_000);
    // A 1 s gateway timeout gives a 7 s lease on each charge attempt.
    stack = await startSagaStack({ payment: { GATEWAY_TIMEOUT_MS: '1000' } });
  });
  after(async () => stack?.stop());

  it('is refunded, never dropped, when the gateway answers after the lease and the hold have both run out', async function () {
    this.timeout(60_000);
    const fan = await stack.newUser();
    const event = await stack.createEvent(anEvent({ seats: 2, holdSeconds: 4 }));
    // Set above the lease at run time (the admin API allows up to 60 s): the charge is still in flight when
    // the lease runs out, and by then the hold has ended too.
    await stack.setFaults({ failureRate: 0, latencyMs: { min: 9000, max: 9000 } });
    const reserved = await stack.reserve(fan.token, event.id, [event.seatIds[0]!]);
    assert.equal(reserved.status, 202);
    const id = reserved.body.id as string;
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
    assert.equal(Number(refund.amount), Number(reserved.body.amount));
    const payment = await stack.waitForPayment(id, 'REFUNDED', 20_000);
    assert.ok(payment.captured_at, 'the payment records that money was captured');
    const reservation = await stack.ticketDb.query('SELECT status FROM reservations WHERE id = $1', [id]);
    assert.notEqual(reservation.rows[0].status, 'CONFIRMED');
  });
});
