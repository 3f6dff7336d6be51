import { join } from 'node:path';
import { type FaultProfile, faultProfileSchema } from '@reservex/contracts';
import {
  createHttpApp,
  createLogger,
  createPool,
  createServiceMetrics,
  createTracing,
  type Logger,
  listen,
  observePgPool,
  type RunningServer,
  retryUntilDone,
  runMigrations,
  shutdown,
  TtlCache,
} from '@reservex/kit';
import type { ProviderConfig } from './config.ts';
import { providerOpenApi } from './http/operations.ts';
import { providerRoutes } from './http/provider-routes.ts';
import { declineAbandoned } from './store/charges.ts';
import { loadFaultProfile, saveFaultProfile, seedFaultProfile } from './store/fault-profile.ts';
import { providerApi } from './use-cases/provider-api.ts';

export const SERVICE_NAME = 'payment-provider';

export interface PaymentProvider {
  logger: Logger;
  start(): Promise<RunningServer>;
  stop(): Promise<void>;
}

/**
 * A simulated card acquirer, run as its own process with its own database: the stand-in for the outside world
 * payment-service pays through. Its ledger is the one record of money moved.
 */
export function createPaymentProvider(config: ProviderConfig): PaymentProvider {
  const logger = createLogger(SERVICE_NAME, config.LOG_LEVEL);
  const pool = createPool(config.DATABASE_URL, config.DATABASE_POOL_MAX, logger);
  const metrics = createServiceMetrics(SERVICE_NAME);
  observePgPool(metrics, pool);
  const tracing = createTracing(SERVICE_NAME, config);
  const initial = faultProfileSchema.parse({
    failureRate: config.PROVIDER_FAILURE_RATE,
    latencyMs: { min: config.PROVIDER_LATENCY_MIN_MS, max: config.PROVIDER_LATENCY_MAX_MS },
  });
  // Read at most once a second per instance: a change through the API reaches every instance within that.
  const profileCache = new TtlCache<'profile', FaultProfile>({ ttlMs: 1000 });
  const currentFaults = () =>
    profileCache.get('profile', async () => (await loadFaultProfile(pool)) ?? initial);
  let server: RunningServer | undefined;
  let prepared = false;
  const stopping = new AbortController();

  return {
    logger,
    async start() {
      const app = createHttpApp({
        service: SERVICE_NAME,
        logger,
        metrics,
        tracer: tracing.tracer,
        bodyLimit: config.HTTP_BODY_LIMIT,
        openapi: providerOpenApi(),
        readinessChecks: [
          {
            name: 'startup',
            check: async () => {
              if (!prepared) throw new Error('migrations not applied yet: waiting for PostgreSQL');
            },
          },
          { name: 'postgres', check: async () => void (await pool.query('SELECT 1')) },
        ],
        routes: providerRoutes({
          api: providerApi({ pool, faults: currentFaults }),
          apiKey: config.PROVIDER_API_KEY,
          hangMs: config.PROVIDER_HANG_MS,
          faults: {
            get: currentFaults,
            async change(change) {
              const profile =
                'outageSeconds' in change
                  ? {
                      ...(await currentFaults()),
                      outageUntil: new Date(Date.now() + change.outageSeconds * 1000).toISOString(),
                    }
                  : change;
              await saveFaultProfile(pool, profile);
              profileCache.delete('profile');
              return profile;
            },
          },
        }),
      });
      server = await listen(app, config.HOST, config.PORT);
      await retryUntilDone(
        async () => {
          await runMigrations(pool, join(import.meta.dirname, '..', 'migrations'), logger);
          await seedFaultProfile(pool, initial);
          const abandoned = await declineAbandoned(pool);
          if (abandoned > 0) logger.warn({ abandoned }, 'declined charges a previous run left pending');
        },
        {
          what: 'start-up',
          signal: stopping.signal,
          onFailure: (error, attempt) => {
            if (attempt === 1 || attempt % 10 === 0)
              logger.warn({ err: error, attempt }, 'start-up waits for PostgreSQL');
          },
        },
      );
      prepared = true;
      logger.info({ url: server.url }, 'payment-provider listening');
      return server;
    },
    async stop() {
      stopping.abort();
      await shutdown(
        [
          { name: 'http', run: async () => server?.close(config.SHUTDOWN_GRACE_MS) },
          { name: 'postgres', run: () => pool.end() },
          { name: 'tracing', run: () => tracing.shutdown() },
        ],
        config.SHUTDOWN_GRACE_MS,
        logger,
      );
    },
  };
}
