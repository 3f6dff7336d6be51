import {
  readInfraSettings,
  startKafka,
  startPostgres,
  startRedis,
  stopKafka,
  stopPostgres,
  stopRedis,
} from '@reservex/stack';

export type InfraComponent = 'kafka' | 'postgres' | 'redis';

/**
 * Stops and starts the real local-mode servers, for tests of what the services do while one is away. Under
 * testcontainers the servers belong to the mocha fixture, and these tests are skipped.
 */
export function infraControl() {
  if (process.env.RESERVEX_TEST_INFRA === 'testcontainers') return undefined;
  const settings = readInfraSettings(process.env, true);
  const quiet = () => {};
  return {
    async stop(component: InfraComponent): Promise<void> {
      if (component === 'kafka') await stopKafka(settings);
      else if (component === 'postgres') await stopPostgres(settings);
      else await stopRedis(settings);
    },
    async start(component: InfraComponent): Promise<void> {
      if (component === 'kafka') await startKafka(settings, quiet);
      else if (component === 'postgres') await startPostgres(settings, quiet);
      else await startRedis(settings, quiet);
    },
  };
}
