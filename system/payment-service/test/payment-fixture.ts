import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { type CancellationReason, TOPICS } from '@reservex/contracts';
import {
  createLogger,
  createServiceMetrics,
  createTracing,
  loadConfig,
  tracingConfigSchema,
} from '@reservex/kit';
import {
  deliverTo,
  httpClient,
  migratedTestDatabase,
  singleServiceStack,
  waitFor,
} from '@reservex/kit/testing';
import { startTestProvider, type TestProvider } from '@reservex/payment-provider/testing';
import { paymentConfigSchema } from '../src/config.ts';
import type { ChargeOutcome } from '../src/domain/payment-saga.ts';
import { chargeKey } from '../src/gateway/gateway.ts';
import { providerClient } from '../src/gateway/provider-client.ts';
import { paymentSaga } from '../src/messaging/payment-saga.ts';
import { gatewayMetrics } from '../src/payment-metrics.ts';
import { createPaymentService, type PaymentService } from '../src/service.ts';
import { completeRefund } from '../src/use-cases/complete-refund.ts';
import { settleCharge } from '../src/use-cases/settle-charge.ts';
import { PaymentProcessor } from '../src/workers/payment-processor.ts';
import { Reconciler } from '../src/workers/reconciler.ts';
import { Refunder } from '../src/workers/refunder.ts';

export type { ChargeOutcome } from '../src/domain/payment-saga.ts';

/**
 * A payment-service for a test, not started: the test's variables over defaults that suit tests (quick lookups of
 * payments in doubt, a consumer group of the test's own, under `prefix`).
 */
export function testPaymentService(prefix: string, env: Record<string, string>): PaymentService {
  return createPaymentService(
    loadConfig(paymentConfigSchema, {
      KAFKA_GROUP_ID: `${prefix}payment`,
      RECONCILE_BACKOFF_BASE_MS: '50',
      RECONCILE_BACKOFF_MAX_MS: '500',
      ...env,
    }),
  );
}

/**
 * payment-service alone, real and in this process, against a fresh database and its own Kafka topics.
 * ticket-service's side of the saga is played by publishing its messages to Kafka.
 */
export async function startPaymentStack(options: { payment?: Record<string, string> } = {}) {
  const around = await singleServiceStack('payment');
  const provider = await startTestProvider();
  const env = { ...around.env, ...provider.paymentEnv, ...options.payment };
  let service = testPaymentService(around.prefix, env);
  const server = await service.start();
  const paymentDb = around.pool;
  const api = httpClient(server.url);
  const { prefix, publish, adminToken } = around;

  return {
    prefix,
    api,
    paymentDb,
    provider,
    adminToken,
    publish,

    /**
     * Plays ticket-service: a reservation of `amount` whose hold's deadline is in `holdSeconds`, and whose
     * settle-by instant `settleWindowSeconds` after that.
     */
    async reservationCreated(
      options: { amount?: number; holdSeconds?: number; settleWindowSeconds?: number } = {},
    ) {
      const reservationId = randomUUID();
      const data = {
        reservationId,
        eventId: randomUUID(),
        userId: randomUUID(),
        seatIds: [randomUUID()],
        amount: options.amount ?? 100_000,
        currency: 'KRW',
        expiresAt: new Date(Date.now() + (options.holdSeconds ?? 60) * 1000).toISOString(),
        settleBy: new Date(
          Date.now() + ((options.holdSeconds ?? 60) + (options.settleWindowSeconds ?? 0)) * 1000,
        ).toISOString(),
      };
      await publish(TOPICS.reservationCreated, reservationId, data);
      return data;
    },

    /** Plays ticket-service: the reservation ended, by the fan (`user-cancelled`) or the end of its hold. */
    reservationCancelled(
      r: { reservationId: string; eventId: string },
      ended: { reason: CancellationReason; wasConfirmed: boolean },
    ) {
      return publish(TOPICS.reservationCancelled, r.reservationId, {
        reservationId: r.reservationId,
        eventId: r.eventId,
        ...ended,
      });
    },

    /** Waits until the provider has captured the reservation's charge, whatever payment-service knows of it. */
    async providerCaptured(reservationId: string) {
      await waitFor(async () => (await provider.chargeStatus(chargeKey(reservationId))) === 'captured', {
        what: 'the provider to capture',
      });
    },

    /** Stops payment-service (its in-flight work is cut short) and starts a fresh instance on the same database. */
    async restartService() {
      await service.stop();
      service = testPaymentService(around.prefix, env);
      await service.start();
    },

    /** The saga messages payment-service wrote for a reservation, oldest first. */
    async sagaMessages(reservationId: string): Promise<string[]> {
      const { rows } = await paymentDb.query('SELECT topic FROM outbox WHERE key = $1 ORDER BY id', [
        reservationId,
      ]);
      return rows.map((r) => r.topic);
    },

    async waitForPayment(reservationId: string, status: string, timeoutMs = 15_000) {
      return waitFor(
        async () => {
          const { rows } = await paymentDb.query('SELECT * FROM payments WHERE reservation_id = $1', [
            reservationId,
          ]);
          return rows[0]?.status === status ? rows[0] : undefined;
        },
        { timeoutMs, what: `payment of ${reservationId} to become ${status}` },
      );
    },

    async stop() {
      await service.stop();
      await provider.stop();
      await around.close();
    },
  };
}

export type PaymentStack = Awaited<ReturnType<typeof startPaymentStack>>;

/**
 * payment-service's saga on a database of its own, migrated, with nothing running: no processor, reconciler or
 * refunder moves anything, so the test takes each step itself. `deliver` applies a message as the consumer would;
 * `settleCharge` records the provider's answer to a claimed attempt, as the processor does after the call;
 * `completeRefund` records a refund the provider made.
 */
export async function paymentSagaByHand(label: string, poolMax?: number) {
  const db = await migratedTestDatabase(label, join(import.meta.dirname, '..', 'migrations'), poolMax);
  const nobody = { wake() {} };
  return {
    ...db,
    deliver: deliverTo(db.pool, paymentSaga({ processor: nobody, refunder: nobody })),
    settleCharge: (paymentId: string, outcome: ChargeOutcome, attempt: number) =>
      settleCharge(db.pool, paymentId, outcome, attempt),
    completeRefund: (paymentId: string) => completeRefund(db.pool, paymentId),
  };
}

export type PaymentSagaByHand = Awaited<ReturnType<typeof paymentSagaByHand>>;

/**
 * payment-service's workers on a saga stepped by hand, paying through `provider`, none of them started: the test
 * runs their passes (chargeDue, checkDue, refundDue) itself, and none wakes another. Each call builds a new one, as
 * another instance of payment-service would have.
 */
export function paymentWorkersByHand(
  saga: PaymentSagaByHand,
  provider: TestProvider,
  options: { leaseSeconds: number; gatewayTimeoutMs: number; voidMarginMs: number; concurrency: number },
) {
  const logger = createLogger('payment-workers', 'silent');
  const gateway = providerClient({
    url: provider.url,
    apiKey: provider.apiKey,
    timeoutMs: options.gatewayTimeoutMs,
  });
  const metrics = gatewayMetrics(createServiceMetrics('payment-workers'), {
    inDoubt: async () => 0,
    refundsRefused: async () => 0,
  });
  const nobody = { wake() {} };
  const common = {
    pool: saga.pool,
    gateway,
    logger,
    metrics,
    relay: nobody,
    leaseSeconds: options.leaseSeconds,
    idleMs: 1000,
  };
  const backoff = { baseMs: 10, maxMs: 20 };
  return {
    gateway,
    reconciler: () =>
      new Reconciler({
        ...common,
        refunder: nobody,
        processor: nobody,
        backoff,
        voidMarginMs: options.voidMarginMs,
        batch: 50,
      }),
    processor: () =>
      new PaymentProcessor({
        ...common,
        tracer: createTracing('payment-workers', tracingConfigSchema.parse({})).tracer,
        refunder: nobody,
        reconciler: nobody,
        concurrency: options.concurrency,
      }),
    refunder: () => new Refunder({ ...common, backoff }),
  };
}
