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
import { Counter, Histogram } from 'prom-client';
import type { PaymentConfig } from './config.ts';
import type { FaultProfile } from './domain/fault-profile.ts';
import { simulatedGateway } from './gateway/simulated-gateway.ts';
import { paymentOpenApi } from './http/openapi.ts';
import { paymentRoutes } from './http/routes.ts';
import { paymentSagaHandlers } from './messaging/saga-handlers.ts';
import { PaymentProcessor } from './payment-processor.ts';

export const SERVICE_NAME = 'payment-service';

export interface PaymentService {
  logger: Logger;
  start(): Promise<RunningServer>;
  stop(): Promise<void>;
}

export function createPaymentService(config: PaymentConfig): PaymentService {
  const base = sagaServiceBase(SERVICE_NAME, config);
  const { logger, pool, sagaPool, metrics, tracer, relay } = base;
  const outcomes = new Counter({
    name: 'payment_gateway_outcomes_total',
    help: 'Gateway charge outcomes: captured, a decline reason, or timeout',
    labelNames: ['outcome'] as const,
    registers: [metrics.registry],
  });
  const latency = new Histogram({
    name: 'payment_gateway_latency_seconds',
    help: 'Time the gateway took to answer a charge',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [metrics.registry],
  });
  let faults: FaultProfile = {
    failureRate: config.GATEWAY_FAILURE_RATE,
    timeoutRate: config.GATEWAY_TIMEOUT_RATE,
    latencyMs: { min: config.GATEWAY_LATENCY_MIN_MS, max: config.GATEWAY_LATENCY_MAX_MS },
  };
  const gateway = simulatedGateway(pool, () => faults, config.GATEWAY_TIMEOUT_MS);
  const leaseSeconds =
    Math.ceil((Math.max(config.GATEWAY_LATENCY_MAX_MS, config.GATEWAY_TIMEOUT_MS) * 2) / 1000) + 5;
  const processor = new PaymentProcessor({
    pool: sagaPool,
    gateway,
    logger,
    tracer,
    concurrency: config.PAYMENT_CONCURRENCY,
    leaseSeconds,
    idleMs: 250,
    onOutcome: (outcome, seconds) => {
      outcomes.inc({ outcome });
      latency.observe(seconds);
    },
    onCommitted: () => relay.wake(),
  });
  const consumer = base.consumer({
    groupId: config.KAFKA_GROUP_ID,
    handlers: paymentSagaHandlers(() => processor.wake()),
    afterDatabaseCommit:
      config.FAULT_CRASH_AFTER_DB_COMMIT === 'true'
        ? () => {
            logger.warn('FAULT_CRASH_AFTER_DB_COMMIT: exiting before the offset commit');
            process.exit(137);
          }
        : undefined,
  });
  let server: RunningServer | undefined;

  return {
    logger,
    async start() {
      await base.prepare(join(import.meta.dirname, '..', 'migrations'));
      const verify = accessTokenVerifier(remoteKeySet(config.ACCOUNT_JWKS_URL));
      const app = createHttpApp({
        service: SERVICE_NAME,
        logger,
        metrics,
        tracer,
        bodyLimit: config.HTTP_BODY_LIMIT,
        openapi: paymentOpenApi(),
        isDraining: base.isDraining,
        readinessChecks: base.readinessChecks,
        routes: paymentRoutes(pool, verify, {
          get: () => faults,
          set: (profile) => {
            faults = profile;
          },
        }),
      });
      server = await listen(app, config.HOST, config.PORT);
      base.startWorkers();
      processor.start();
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
          ...base.closeSteps(),
        ],
        config.SHUTDOWN_GRACE_MS,
        logger,
      );
    },
  };
}
