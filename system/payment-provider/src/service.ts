import { join } from 'node:path';
import { type FaultProfile, faultProfileSchema } from '@reservex/contracts';
import { createHttpApp, runMigrations, type Service, serviceBase, TtlCache } from '@reservex/kit';
import type { ProviderConfig } from './config.ts';
import { providerOpenApi } from './http/operations.ts';
import { providerRoutes } from './http/provider-routes.ts';
import { declineAbandoned } from './store/charges.ts';
import { loadFaultProfile, saveFaultProfile, seedFaultProfile } from './store/fault-profile.ts';
import { providerApi } from './use-cases/provider-api.ts';

export const SERVICE_NAME = 'payment-provider';

export type PaymentProvider = Service;

/**
 * A simulated card acquirer, run as its own process with its own database: the stand-in for the outside world
 * payment-service pays through. Its ledger is the one record of money moved.
 */
export function createPaymentProvider(config: ProviderConfig): PaymentProvider {
  const base = serviceBase(SERVICE_NAME, config, {
    notReady: 'migrations not applied yet: waiting for PostgreSQL',
    waitsFor: 'PostgreSQL',
  });
  const { logger, pool, metrics, tracer } = base;
  const initial = faultProfileSchema.parse({
    failureRate: config.PROVIDER_FAILURE_RATE,
    latencyMs: { min: config.PROVIDER_LATENCY_MIN_MS, max: config.PROVIDER_LATENCY_MAX_MS },
  });
  // Read at most once a second per instance: a change through the API reaches every instance within that.
  const profileCache = new TtlCache<'profile', FaultProfile>({ ttlMs: 1000 });
  const currentFaults = () =>
    profileCache.get('profile', async () => (await loadFaultProfile(pool)) ?? initial);

  return {
    logger,
    async start() {
      // Not base.httpApp: the provider stands for the outside world, with no browser, proxy or shedding of ours.
      const app = createHttpApp({
        service: SERVICE_NAME,
        logger,
        metrics,
        tracer,
        bodyLimit: config.HTTP_BODY_LIMIT,
        openapi: providerOpenApi(),
        readinessChecks: base.readinessChecks,
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
      return base.start(app, async () => {
        await runMigrations(pool, join(import.meta.dirname, '..', 'migrations'), logger);
        await seedFaultProfile(pool, initial);
        const abandoned = await declineAbandoned(pool);
        if (abandoned > 0) logger.warn({ abandoned }, 'declined charges a previous run left pending');
      });
    },
    // No drain: the provider's readiness does not go DOWN while it stops, so there is nothing to wait for.
    stop: () => base.stop([base.closeHttp]),
  };
}
