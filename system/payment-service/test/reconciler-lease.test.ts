import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { newMessage, TOPICS, type Topic } from '@reservex/contracts';
import {
  applyOnce,
  createLogger,
  createPool,
  createServiceMetrics,
  createTracing,
  KIT_MIGRATIONS_DIR,
  type MessageHandler,
  type Pool,
  runMigrations,
  tracingConfigSchema,
} from '@reservex/kit';
import { createTestDatabase, type TestDatabase, waitFor } from '@reservex/kit/testing';
import { startTestProvider, type TestProvider } from '@reservex/payment-provider/testing';
import { chargeKey } from '../src/gateway/gateway.ts';
import { providerClient } from '../src/gateway/provider-client.ts';
import { paymentSaga } from '../src/messaging/payment-saga.ts';
import { gatewayMetrics } from '../src/payment-metrics.ts';
import { PaymentProcessor } from '../src/workers/payment-processor.ts';
import { Reconciler, type ReconcilerOptions } from '../src/workers/reconciler.ts';

/**
 * Two reconcilers and two processors (two instances of payment-service) on one database and the real provider,
 * made slower than the lease: its charges by its fault profile, its lookups by a lock a test holds on its table of
 * charges, so that the provider answers when the test says.
 */
describe('a claim on a payment outlives a slow provider (real PostgreSQL and provider)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let provider: TestProvider;
  let processors: [PaymentProcessor, PaymentProcessor];
  let reconcilers: [Reconciler, Reconciler];
  const handlers = new Map<Topic, MessageHandler>();
  // A short lease, and a provider deadline well beyond it: calls that take longer than the lease are the case.
  const leaseSeconds = 1;

  before(async function () {
    this.timeout(60_000);
    const logger = createLogger('reconciler-lease', 'silent');
    db = await createTestDatabase('reconciler_lease');
    pool = createPool(db.url, 10, logger);
    await runMigrations(pool, KIT_MIGRATIONS_DIR, logger, 'kit_schema_migrations');
    await runMigrations(pool, join(import.meta.dirname, '..', 'migrations'), logger);
    provider = await startTestProvider();
    const gateway = providerClient({ url: provider.url, apiKey: provider.apiKey, timeoutMs: 8000 });
    const metrics = gatewayMetrics(createServiceMetrics('reconciler-lease'), {
      inDoubt: async () => 0,
      refundsRefused: async () => 0,
    });
    const nobody = { wake() {} };
    const common = { pool, gateway, logger, metrics, relay: nobody, leaseSeconds, idleMs: 1000 };
    const options: ReconcilerOptions = {
      ...common,
      refunder: nobody,
      processor: nobody,
      backoff: { baseMs: 10, maxMs: 20 },
      voidMarginMs: 1000,
      batch: 50,
    };
    reconcilers = [new Reconciler(options), new Reconciler(options)];
    const processorOptions = {
      ...common,
      tracer: createTracing('reconciler-lease', tracingConfigSchema.parse({})).tracer,
      refunder: nobody,
      reconciler: nobody,
      concurrency: 4,
    };
    processors = [new PaymentProcessor(processorOptions), new PaymentProcessor(processorOptions)];
    for (const h of paymentSaga({ processor: nobody, refunder: nobody })) handlers.set(h.topic, h);
  });
  after(async () => {
    await provider?.stop();
    await pool?.end();
    await db?.drop();
  });

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
    await applyOnce(pool, handlers.get(created.type)!, created);
    return { reservationId, amount };
  }

  /** A payment the provider captured while its answer was lost (a 500 after the capture): IN_DOUBT, due now. */
  async function aPaymentInDoubt(): Promise<{ id: string; reservationId: string; amount: number }> {
    const { reservationId, amount } = await aPaymentToCharge();
    await provider.setFaults({ errorAfterCaptureRate: 1 });
    await processors[0].chargeDue();
    await provider.setFaults({});
    const { rows } = await pool.query(
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
      // Whatever lease the first claim took ends by this instant; the lookup is still in flight past it.
      const { rows } = await pool.query('SELECT now() + make_interval(secs => $1) AS ended', [leaseSeconds]);
      await waitFor(
        async () =>
          (await pool.query('SELECT now() > $1::timestamptz AS past', [rows[0].ended])).rows[0].past,
        { what: 'the first claim’s lease to have run its length' },
      );
      assert.equal(await second.checkDue(), 0, 'the second reconciler claimed a payment still being checked');
    } finally {
      await lock.query('COMMIT');
      lock.release();
    }
    assert.equal(await checking, 1);
    const { rows: after } = await pool.query(
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
      const { rows } = await pool.query('SELECT now() + make_interval(secs => $1) AS ended', [leaseSeconds]);
      await waitFor(
        async () =>
          (await pool.query('SELECT now() > $1::timestamptz AS past', [rows[0].ended])).rows[0].past,
        { what: 'the first claim’s lease to have run its length' },
      );
      assert.equal(await second.chargeDue(), 0, 'the second processor claimed a payment being charged');
      assert.equal(await charging, 1);
    } finally {
      await provider.setFaults({});
    }
    const { rows } = await pool.query('SELECT status, attempts FROM payments WHERE reservation_id = $1', [
      reservationId,
    ]);
    assert.deepEqual(rows[0], { status: 'CAPTURED', attempts: 1 });
    assert.equal((await provider.moneyMoved(chargeKey(reservationId))).captured, amount);
  });
});
