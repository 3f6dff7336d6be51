import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { newMessage, TOPICS } from '@reservex/contracts';
import type { Pool } from '@reservex/kit';
import { waitFor } from '@reservex/kit/testing';
import { startTestProvider, type TestProvider } from '@reservex/payment-provider/testing';
import fc from 'fast-check';
import { chargeKey, type Gateway } from '../src/gateway/gateway.ts';
import { claimPaymentsInDoubt, claimProcessingPayments } from '../src/store/payments.ts';
import type { PaymentProcessor } from '../src/workers/payment-processor.ts';
import type { Reconciler } from '../src/workers/reconciler.ts';
import type { Refunder } from '../src/workers/refunder.ts';
import { type PaymentSagaByHand, paymentSagaByHand, paymentWorkersByHand } from './payment-fixture.ts';

const RESERVATIONS = 4;

/** Provider behaviours the runs switch between: every fault of the vocabulary, at rates that mix outcomes. */
const FAULTS = {
  none: {},
  declines: { failureRate: 0.4 },
  lost: { timeoutRate: 0.5 },
  'timeout-after-capture': { timeoutAfterCaptureRate: 0.6 },
  'reset-after-capture': { resetAfterCaptureRate: 0.6 },
  '5xx-after-capture': { errorAfterCaptureRate: 0.6 },
  slow: { slowRate: 0.6, slowMs: 300 },
  'refund-lost': { refundTimeoutRate: 0.6 },
  'refund-answer-lost': { refundTimeoutAfterRate: 0.6 },
} as const;

type Action =
  | { kind: 'open'; r: number }
  | { kind: 'faults'; name: keyof typeof FAULTS }
  | { kind: 'outage' }
  | { kind: 'charge' }
  | { kind: 'reconcile' }
  | { kind: 'refund' }
  | { kind: 'cancel'; r: number }
  | { kind: 'hold-ends'; r: number }
  | { kind: 'payment-service-dies-mid-charge' }
  | { kind: 'payment-service-dies-mid-check' }
  | { kind: 'provider-dies' };

const pick = fc.nat(RESERVATIONS - 1);
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('open' as const), r: pick }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('faults' as const),
      name: fc.constantFrom(...(Object.keys(FAULTS) as (keyof typeof FAULTS)[])),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'outage' as const }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'charge' as const }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'reconcile' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'refund' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), r: pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('hold-ends' as const), r: pick }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'payment-service-dies-mid-charge' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'payment-service-dies-mid-check' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'provider-dies' as const }) },
);

interface Books {
  status: string;
  amount: number;
  captures: number;
  captured: number;
  refunds: number;
  refunded: number;
  charge: string | null;
}

/**
 * The reconciler, the processor and the refunder, stepped by hand against the real provider (its own database)
 * and payment-service's real PostgreSQL, through random sequences of provider faults, outages and crashes of
 * either side. After every step, the provider's ledger and payment-service's record must agree on the money;
 * after quiescence, every capture is a booking or a refund.
 */
describe('the reconciler under random faults and crashes (fast-check, real PostgreSQL and provider)', () => {
  let saga: PaymentSagaByHand;
  let pool: Pool;
  let provider: TestProvider;
  let gateway: Gateway;
  let processor: PaymentProcessor;
  let reconciler: Reconciler;
  let refunder: Refunder;
  const gatewayTimeoutMs = 150;

  before(async function () {
    this.timeout(60_000);
    saga = await paymentSagaByHand('reconciler_prop');
    pool = saga.pool;
    provider = await startTestProvider({ SHUTDOWN_GRACE_MS: '300', PROVIDER_HANG_MS: '1000' });
    const workers = paymentWorkersByHand(saga, provider, {
      leaseSeconds: 30,
      gatewayTimeoutMs,
      voidMarginMs: 2 * gatewayTimeoutMs,
      concurrency: 16,
    });
    gateway = workers.gateway;
    refunder = workers.refunder();
    reconciler = workers.reconciler();
    processor = workers.processor();
  });
  after(async () => {
    await provider?.stop();
    await saga?.drop();
  });

  const deliver = (message: Parameters<PaymentSagaByHand['deliver']>[0]) => saga.deliver(message);

  /** Each payment of this run, with what the provider's ledger holds under its charge key. */
  async function books(eventId: string): Promise<Map<string, Books>> {
    const { rows: payments } = await pool.query(
      'SELECT reservation_id, status, amount FROM payments WHERE event_id = $1',
      [eventId],
    );
    const keys = payments.map((p) => chargeKey(p.reservation_id));
    const { rows: ledger } = await provider.db.query(
      `SELECT c.idempotency_key AS key, c.status AS charge,
              count(l.*) FILTER (WHERE l.kind = 'capture')::int AS captures,
              COALESCE(sum(l.amount) FILTER (WHERE l.kind = 'capture'), 0)::int AS captured,
              count(l.*) FILTER (WHERE l.kind = 'refund')::int AS refunds,
              COALESCE(sum(l.amount) FILTER (WHERE l.kind = 'refund'), 0)::int AS refunded
       FROM charges c LEFT JOIN ledger_entries l ON l.charge_key = c.idempotency_key
       WHERE c.idempotency_key = ANY($1) GROUP BY c.idempotency_key, c.status`,
      [keys],
    );
    const byKey = new Map(ledger.map((l) => [l.key, l]));
    return new Map(
      payments.map((p) => {
        const l = byKey.get(chargeKey(p.reservation_id));
        return [
          p.reservation_id,
          {
            status: p.status,
            amount: Number(p.amount),
            captures: l?.captures ?? 0,
            captured: l?.captured ?? 0,
            refunds: l?.refunds ?? 0,
            refunded: l?.refunded ?? 0,
            charge: l?.charge ?? null,
          },
        ];
      }),
    );
  }

  /** What must hold between the provider's ledger and payment-service's record at every step. */
  function assertMoneyAgrees(all: Map<string, Books>, step: string) {
    for (const [id, b] of all) {
      const where = `${step}: reservation ${id} ${JSON.stringify(b)}`;
      assert.ok(b.captures <= 1, `charged twice, ${where}`);
      assert.ok(b.refunds <= 1, `refunded twice, ${where}`);
      if (b.captures === 1) assert.equal(b.captured, b.amount, `captured another amount, ${where}`);
      if (b.refunds > 0) assert.equal(b.refunded, b.captured, `refund without its capture, ${where}`);
      switch (b.status) {
        case 'CAPTURED':
          assert.ok(b.captures === 1 && b.refunds === 0, `CAPTURED without a capture, ${where}`);
          break;
        case 'FAILED':
          assert.equal(b.captures, 0, `FAILED but money moved, ${where}`);
          assert.ok(
            b.charge === null || b.charge === 'declined' || b.charge === 'voided',
            `FAILED on a charge that may still capture, ${where}`,
          );
          break;
        case 'REFUNDING':
          assert.equal(b.captures, 1, `REFUNDING with nothing captured, ${where}`);
          break;
        case 'REFUNDED':
          assert.ok(b.captures === 1 && b.refunds === 1, `REFUNDED but the provider disagrees, ${where}`);
          break;
      }
    }
  }

  it('after every step the provider’s ledger and the payments agree; at quiescence every capture is a booking or a refund', async function () {
    this.timeout(600_000);
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 25 }), async (actions) => {
        const eventId = randomUUID();
        const reservations = Array.from({ length: RESERVATIONS }, () => ({
          id: randomUUID(),
          amount: 10_000 * (1 + Math.floor(Math.random() * 9)),
        }));
        const cancelled = new Set<string>();
        await provider.setFaults({});
        const open = (r: (typeof reservations)[number]) =>
          deliver(
            newMessage(TOPICS.reservationCreated, r.id, {
              reservationId: r.id,
              eventId,
              userId: 'fan',
              seatIds: [randomUUID()],
              amount: r.amount,
              currency: 'KRW',
              expiresAt: new Date(Date.now() + 60_000).toISOString(),
              settleBy: new Date(Date.now() + 70_000).toISOString(),
            }),
          );
        const cancel = (r: (typeof reservations)[number]) => {
          cancelled.add(r.id);
          return deliver(
            newMessage(TOPICS.reservationCancelled, r.id, {
              reservationId: r.id,
              eventId,
              reason: 'expired',
              wasConfirmed: false,
            }),
          );
        };
        const dueNow = () =>
          pool.query(
            "UPDATE payments SET next_check_at = now(), lease_until = CASE WHEN status = 'REFUNDING' THEN NULL ELSE lease_until END WHERE event_id = $1",
            [eventId],
          );

        for (const [n, a] of actions.entries()) {
          const r = 'r' in a ? reservations[a.r]! : undefined;
          switch (a.kind) {
            case 'open':
              await open(r!);
              break;
            case 'faults':
              await provider.setFaults(FAULTS[a.name]);
              break;
            case 'outage':
              await provider.outage(0.5);
              break;
            case 'charge':
              await processor.chargeDue();
              break;
            case 'reconcile':
              await dueNow();
              await reconciler.checkDue();
              break;
            case 'refund':
              await dueNow();
              await refunder.refundDue();
              break;
            case 'cancel':
              await cancel(r!);
              break;
            case 'hold-ends':
              await pool.query(
                "UPDATE payments SET hold_expires_at = now() - interval '1 second', settle_by = now() - interval '1 second' WHERE reservation_id = $1",
                [r!.id],
              );
              break;
            case 'payment-service-dies-mid-charge': {
              // Claimed, the charge sent, and the process gone before it settled: the lease runs out.
              const claimed = await claimProcessingPayments(pool, 16, 30);
              await Promise.all(
                claimed.map((p) => gateway.charge(chargeKey(p.reservationId), p.amount, p.currency)),
              );
              await pool.query(
                "UPDATE payments SET lease_until = now() - interval '1 second' WHERE event_id = $1",
                [eventId],
              );
              break;
            }
            case 'payment-service-dies-mid-check': {
              await dueNow();
              await claimPaymentsInDoubt(pool, 50, 30);
              await pool.query(
                "UPDATE payments SET lease_until = now() - interval '1 second' WHERE event_id = $1",
                [eventId],
              );
              break;
            }
            case 'provider-dies':
              await provider.crash();
              await provider.start();
              break;
          }
          assertMoneyAgrees(await books(eventId), `after step ${n} (${a.kind})`);
        }

        // Quiescence: the provider recovers, and the workers run until nothing is open.
        await provider.setFaults({});
        await waitFor(
          async () => {
            await dueNow();
            await processor.chargeDue();
            await reconciler.checkDue();
            await refunder.refundDue();
            const { rows } = await pool.query(
              "SELECT 1 FROM payments WHERE event_id = $1 AND status IN ('PROCESSING', 'IN_DOUBT', 'REFUNDING')",
              [eventId],
            );
            const { rows: pending } = await provider.db.query(
              "SELECT 1 FROM charges WHERE status = 'pending' AND idempotency_key = ANY($1)",
              [reservations.map((x) => chargeKey(x.id))],
            );
            return rows.length === 0 && pending.length === 0 ? true : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 50, what: 'the payments to settle' },
        );
        const end = await books(eventId);
        assertMoneyAgrees(end, 'at quiescence');
        for (const [id, b] of end) {
          if (b.captures === 0) continue;
          assert.ok(
            (b.status === 'CAPTURED' && !cancelled.has(id)) || b.status === 'REFUNDED',
            `captured, yet neither a live booking nor refunded: ${id} ${JSON.stringify(b)}`,
          );
        }
      }),
      { numRuns: 12 },
    );
  });
});
