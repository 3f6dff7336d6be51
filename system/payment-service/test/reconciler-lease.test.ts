import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { newMessage, TOPICS } from '@reservex/contracts';
import { waitFor } from '@reservex/kit/testing';
import { startTestProvider, type TestProvider } from '@reservex/payment-provider/testing';
import { chargeKey } from '../src/gateway/gateway.ts';
import type { PaymentProcessor } from '../src/workers/payment-processor.ts';
import type { Reconciler } from '../src/workers/reconciler.ts';
import { type PaymentSagaByHand, paymentSagaByHand, paymentWorkersByHand } from './payment-fixture.ts';

/**
 * Two reconcilers and two processors (two instances of payment-service) on one database and the real provider,
 * made slower than the lease: its charges by its fault profile, its lookups by a lock a test holds on its table of
 * charges, so that the provider answers when the test says.
 */
describe('a claim on a payment outlives a slow provider (real PostgreSQL and provider)', () => {
  let saga: PaymentSagaByHand;
  let provider: TestProvider;
  let processors: [PaymentProcessor, PaymentProcessor];
  let reconcilers: [Reconciler, Reconciler];
  // A short lease, and a provider deadline well beyond it: calls that take longer than the lease are the case.
  const leaseSeconds = 1;

  before(async function () {
    this.timeout(60_000);
    saga = await paymentSagaByHand('reconciler_lease');
    provider = await startTestProvider();
    const workers = paymentWorkersByHand(saga, provider, {
      leaseSeconds,
      gatewayTimeoutMs: 8000,
      voidMarginMs: 1000,
      concurrency: 4,
    });
    reconcilers = [workers.reconciler(), workers.reconciler()];
    processors = [workers.processor(), workers.processor()];
  });
  after(async () => {
    await provider?.stop();
    await saga?.drop();
  });

  /** Waits, by the database's clock, until a lease taken before now has run its length. */
  async function leaseRunOut() {
    const { rows } = await saga.pool.query('SELECT now() + make_interval(secs => $1) AS ended', [
      leaseSeconds,
    ]);
    await waitFor(
      async () =>
        (await saga.pool.query('SELECT now() > $1::timestamptz AS past', [rows[0].ended])).rows[0].past,
      { what: 'the first claim’s lease to have run its length' },
    );
  }

  /** A reservation's payment, PROCESSING: nothing sent to the provider yet. */
  async function aPaymentToCharge(): Promise<{ reservationId: string; amount: number }> {
    const reservationId = randomUUID();
    const amount = 70_000;
    const created = newMessage(TOPICS.reservationCreated, reservationId, {
      reservationId,
      eventId: randomUUID(),
      userId: 'fan',
      seatIds: [randomUUID()],
      amount,
      currency: 'KRW',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      settleBy: new Date(Date.now() + 90_000).toISOString(),
    });
    await saga.deliver(created);
    return { reservationId, amount };
  }

  /** A payment the provider captured while its answer was lost (a 500 after the capture): IN_DOUBT, due now. */
  async function aPaymentInDoubt(): Promise<{ id: string; reservationId: string; amount: number }> {
    const { reservationId, amount } = await aPaymentToCharge();
    await provider.setFaults({ errorAfterCaptureRate: 1 });
    await processors[0].chargeDue();
    await provider.setFaults({});
    const { rows } = await saga.pool.query(
      'UPDATE payments SET next_check_at = now() WHERE reservation_id = $1 RETURNING id, status',
      [reservationId],
    );
    assert.equal(rows[0]?.status, 'IN_DOUBT');
    return { id: rows[0].id, reservationId, amount };
  }

  it('the reconciler keeps its claim while the provider takes longer than the lease: a second one does not take the payment meanwhile, and the first settles it', async function () {
    this.timeout(30_000);
    const payment = await aPaymentInDoubt();
    const [first, second] = reconcilers;
    // The provider's lookups wait on this lock until the test lets them go.
    const lock = await provider.db.connect();
    let checking: Promise<number> | undefined;
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE charges IN ACCESS EXCLUSIVE MODE');
      checking = first.checkDue();
      await waitFor(
        async () =>
          (
            await provider.db.query(
              "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
          ).rowCount === 1,
        { what: 'the first reconciler’s lookup to be waiting at the provider' },
      );
      // The lookup is still in flight past the end of the first claim's lease.
      await leaseRunOut();
      assert.equal(await second.checkDue(), 0, 'the second reconciler claimed a payment still being checked');
    } finally {
      await lock.query('COMMIT');
      lock.release();
    }
    assert.equal(await checking, 1);
    const { rows: after } = await saga.pool.query(
      'SELECT status, attempts, lease_until FROM payments WHERE id = $1',
      [payment.id],
    );
    // One claim by the processor, one by the first reconciler, and no other.
    assert.deepEqual(after[0], { status: 'CAPTURED', attempts: 2, lease_until: null });
    assert.deepEqual(await provider.moneyMoved(chargeKey(payment.reservationId)), {
      captured: payment.amount,
      refunded: 0,
      captures: 1,
      refunds: 0,
    });
  });

  it('the processor keeps its claim while a charge takes longer than the lease: a second one does not charge meanwhile', async function () {
    this.timeout(30_000);
    const { reservationId, amount } = await aPaymentToCharge();
    const [first, second] = processors;
    await provider.setFaults({ slowRate: 1, slowMs: 2500 });
    try {
      const charging = first.chargeDue();
      await waitFor(async () => (await provider.chargeStatus(chargeKey(reservationId))) === 'pending', {
        what: 'the first processor’s charge to be in flight at the provider',
      });
      await leaseRunOut();
      assert.equal(await second.chargeDue(), 0, 'the second processor claimed a payment being charged');
      assert.equal(await charging, 1);
    } finally {
      await provider.setFaults({});
    }
    const { rows } = await saga.pool.query(
      'SELECT status, attempts FROM payments WHERE reservation_id = $1',
      [reservationId],
    );
    assert.deepEqual(rows[0], { status: 'CAPTURED', attempts: 1 });
    assert.equal((await provider.moneyMoved(chargeKey(reservationId))).captured, amount);
  });
});
