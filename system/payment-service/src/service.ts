import { join } from 'node:path';
import {
  accessTokenVerifier,
  createHttpApp,
  type Logger,
  listen,
  type RunningServer,
  remoteKeySet,
  sagaServiceBase,
  shutdown,
} from '@reservex/kit';
import type { PaymentConfig } from './config.ts';
import type { FaultProfile } from './domain/fault-profile.ts';
import { simulatedGateway } from './gateway/simulated-gateway.ts';
import { paymentOpenApi } from './http/openapi.ts';
import { paymentRoutes } from './http/payment-routes.ts';
import { paymentSaga } from './messaging/payment-saga.ts';
import { gatewayMetrics } from './payment-metrics.ts';
import { PaymentProcessor } from './workers/payment-processor.ts';
import { Refunder } from './workers/refunder.ts';

export const SERVICE_NAME = 'payment-service';

export interface PaymentService {
  logger: Logger;
  start(): Promise<RunningServer>;
  stop(): Promise<void>;
}

/** Wires payment-service from its configuration: nothing here reads the environment or decides anything. */
export function createPaymentService(config: PaymentConfig): PaymentService {
  const base = sagaServiceBase(SERVICE_NAME, config);
  const { logger, pool, sagaPool, metrics, tracer, relay } = base;
  let faults: FaultProfile = {
    failureRate: config.GATEWAY_FAILURE_RATE,
    timeoutRate: config.GATEWAY_TIMEOUT_RATE,
    latencyMs: { min: config.GATEWAY_LATENCY_MIN_MS, max: config.GATEWAY_LATENCY_MAX_MS },
  };
  const gateway = simulatedGateway(pool, () => faults, config.GATEWAY_TIMEOUT_MS);
  const gatewayOutcomes = gatewayMetrics(metrics);
  const leaseSeconds = config.PAYMENT_LEASE_SECONDS;
  const refunder = new Refunder({
    pool: sagaPool,
    gateway,
    logger,
    metrics: gatewayOutcomes,
    relay,
    leaseSeconds,
    idleMs: 500,
  });
  const processor = new PaymentProcessor({
    pool: sagaPool,
    gateway,
    logger,
    tracer,
    metrics: gatewayOutcomes,
    relay,
    refunder,
    concurrency: config.PAYMENT_CONCURRENCY,
    leaseSeconds,
    idleMs: 250,
  });
  const consumer = base.consumer({
    groupId: config.KAFKA_GROUP_ID,
    handlers: paymentSaga({ processor, refunder }),
    exitAfterDatabaseCommit: config.FAULT_CRASH_AFTER_DB_COMMIT === 'true',
  });
  let server: RunningServer | undefined;

  return {
    logger,
    async start() {
      const verify = accessTokenVerifier(remoteKeySet(config.ACCOUNT_JWKS_URL));
      const app = createHttpApp({
        service: SERVICE_NAME,
        logger,
        metrics,
        tracer,
        bodyLimit: config.HTTP_BODY_LIMIT,
        openapi: paymentOpenApi(),
        trustProxy: config.TRUST_PROXY,
        isDraining: base.isDraining,
        readinessChecks: base.readinessChecks,
        routes: paymentRoutes(pool, verify, {
          get: () => faults,
          set: (profile) => {
            faults = profile;
          },
        }),
      });
      // Listening first: liveness answers at once, readiness says DOWN until PostgreSQL and Kafka do.
      server = await listen(app, config.HOST, config.PORT);
      await base.prepare(join(import.meta.dirname, '..', 'migrations'));
      base.startWorkers();
      processor.start();
      refunder.start();
      await consumer.start();
      logger.info({ url: server.url }, 'payment-service listening');
      return server;
    },
    async stop() {
      await shutdown(
        [
          ...base.drainSteps(),
          { name: 'http', run: async () => server?.close(config.SHUTDOWN_GRACE_MS) },
          { name: 'consumer', run: () => consumer.stop() },
          { name: 'processor', run: () => processor.stop() },
          { name: 'refunder', run: () => refunder.stop() },
          ...base.closeSteps(),
        ],
        config.SHUTDOWN_GRACE_MS,
        logger,
      );
    },
  };
}
