import { join } from 'node:path';
import {
  accessTokenVerifier,
  countTokenChecks,
  remoteKeySet,
  type Service,
  sagaServiceBase,
  sheddingFrom,
} from '@reservex/kit';
import type { PaymentConfig } from './config.ts';
import { providerClient } from './gateway/provider-client.ts';
import { providerFaults } from './gateway/provider-faults.ts';
import { paymentOpenApi } from './http/operations.ts';
import { paymentRoutes } from './http/payment-routes.ts';
import { paymentSaga } from './messaging/payment-saga.ts';
import { gatewayMetrics } from './payment-metrics.ts';
import { countInDoubt, countRefusedRefunds } from './store/payments.ts';
import { PaymentProcessor } from './workers/payment-processor.ts';
import { Reconciler } from './workers/reconciler.ts';
import { Refunder } from './workers/refunder.ts';

export const SERVICE_NAME = 'payment-service';
const MIGRATIONS_DIR = join(import.meta.dirname, '..', 'migrations');

export type PaymentService = Service;

/** Wires payment-service from its configuration: nothing here reads the environment or decides anything. */
export function createPaymentService(config: PaymentConfig): PaymentService {
  const base = sagaServiceBase(SERVICE_NAME, config);
  const { logger, pool, sagaPool, metrics, tracer, relay } = base;
  const gateway = providerClient({
    url: config.PROVIDER_URL,
    apiKey: config.PROVIDER_API_KEY,
    timeoutMs: config.GATEWAY_TIMEOUT_MS,
  });
  const gatewayOutcomes = gatewayMetrics(metrics, {
    inDoubt: () => countInDoubt(pool),
    refundsRefused: () => countRefusedRefunds(pool),
  });
  const leaseSeconds = config.PAYMENT_LEASE_SECONDS;
  const backoff = { baseMs: config.RECONCILE_BACKOFF_BASE_MS, maxMs: config.RECONCILE_BACKOFF_MAX_MS };
  const refunder = new Refunder({
    pool: sagaPool,
    gateway,
    logger,
    metrics: gatewayOutcomes,
    relay,
    leaseSeconds,
    idleMs: 500,
    backoff,
  });
  // The processor and the reconciler wake each other: a lost answer goes to the one, a charge to retry to the other.
  const reconciler = new Reconciler({
    pool: sagaPool,
    gateway,
    logger,
    metrics: gatewayOutcomes,
    relay,
    refunder,
    processor: { wake: () => processor.wake() },
    leaseSeconds,
    idleMs: 250,
    backoff,
    // Two provider deadlines: the void call itself, and the failure message's way to ticket-service.
    voidMarginMs: 2 * config.GATEWAY_TIMEOUT_MS,
    batch: 50,
  });
  const processor = new PaymentProcessor({
    pool: sagaPool,
    gateway,
    logger,
    tracer,
    metrics: gatewayOutcomes,
    relay,
    refunder,
    reconciler,
    concurrency: config.PAYMENT_CONCURRENCY,
    leaseSeconds,
    idleMs: 250,
  });
  const consumer = base.consumer({
    groupId: config.KAFKA_GROUP_ID,
    handlers: paymentSaga({ processor, refunder }),
    exitAfterDatabaseCommit: config.FAULT_CRASH_AFTER_DB_COMMIT === 'true',
  });

  return {
    logger,
    start: () =>
      base.start(
        base.httpApp({
          openapi: paymentOpenApi(),
          shedding: sheddingFrom(config, pool),
          routes: paymentRoutes(
            pool,
            accessTokenVerifier(remoteKeySet(config.ACCOUNT_JWKS_URL), {
              counted: countTokenChecks(metrics.registry),
            }),
            providerFaults({ url: config.PROVIDER_URL, apiKey: config.PROVIDER_API_KEY, timeoutMs: 5000 }),
          ),
        }),
        MIGRATIONS_DIR,
        [processor, reconciler, refunder, consumer],
      ),
    stop: () =>
      base.stop([
        base.drain,
        base.closeHttp,
        { name: 'consumer', run: () => consumer.stop() },
        { name: 'processor', run: () => processor.stop() },
        { name: 'reconciler', run: () => reconciler.stop() },
        { name: 'refunder', run: () => refunder.stop() },
      ]),
  };
}
