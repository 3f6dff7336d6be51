import type { Express } from 'express';
import type { z } from 'zod';
import { retryUntilDone } from './backoff.ts';
import type { baseConfigSchema } from './config.ts';
import { createPool, type Pool } from './db.ts';
import type { ReadinessCheck } from './health.ts';
import { createHttpApp, type HttpAppOptions } from './http-app.ts';
import { listen, type RunningServer } from './http-server.ts';
import { createLogger, type Logger } from './logger.ts';
import { createServiceMetrics, observePgPool, type ServiceMetrics } from './metrics.ts';
import { drainDelay, type ShutdownStep, shutdown } from './shutdown.ts';
import { createTracing, type Tracer } from './tracing.ts';

/** The base variables, and the port each service defaults on its own. */
export type ServiceConfig = z.infer<typeof baseConfigSchema> & { PORT: number };

/** A service as its main.ts and the test stacks see it: started, stopped, and logging through its logger. */
export interface Service {
  logger: Logger;
  start(): Promise<RunningServer>;
  stop(): Promise<void>;
}

/** What a service does before it is ready, in the words its readiness check and its log use. */
export interface StartUp {
  /** Readiness's answer until start-up is done: 'migrations not applied yet: waiting for PostgreSQL'. */
  notReady: string;
  /** What start-up waits for, in the log: 'PostgreSQL'. */
  waitsFor: string;
}

/** What a service starts once it is prepared, in order: a worker, a consumer, a timer. */
export interface Startable {
  start(): void | Promise<void>;
}

/** The app every service serves: this part is the service's own, the rest (logs, metrics, limits) the base's. */
export interface ServiceHttp {
  openapi: object;
  routes: HttpAppOptions['routes'];
  shedding?: HttpAppOptions['shedding'];
  /** Checked after the base's own (start-up done, PostgreSQL answers). */
  readinessChecks?: readonly ReadinessCheck[];
}

/** What every service is built on: its logger, PostgreSQL pool, metrics and tracing, and how it starts and stops. */
export interface ServiceBase {
  logger: Logger;
  pool: Pool;
  metrics: ServiceMetrics;
  tracer: Tracer;
  /** Start-up is done, and PostgreSQL answers. */
  readinessChecks: ReadinessCheck[];
  /** Another pool on the service's database (a bulkhead): observed under its name, closed with the main one. */
  createPool(max: number, name: string): Pool;
  /** An app with the service's name, logs, metrics, traces, limits, CORS, readiness and draining. */
  httpApp(http: ServiceHttp): Express;
  /**
   * Listens first (liveness answers at once, readiness says DOWN), then prepares, retried with backoff until what
   * start-up waits for answers, however long that takes, then starts what `startables` lists, in order.
   */
  start(
    app: Express,
    prepare: () => Promise<void>,
    startables?: readonly Startable[],
  ): Promise<RunningServer>;
  /** Readiness says DOWN, then the drain delay lets load balancers notice before HTTP closes. */
  drain: ShutdownStep;
  /** Stops taking requests; those in flight finish within the grace period. */
  closeHttp: ShutdownStep;
  /** Start-up stops retrying, then `steps` run in order within the grace period, then PostgreSQL and tracing close. */
  stop(steps: readonly ShutdownStep[]): Promise<void>;
}

export function serviceBase(service: string, config: ServiceConfig, startUp: StartUp): ServiceBase {
  const logger = createLogger(service, config.LOG_LEVEL);
  const metrics = createServiceMetrics(service);
  const pools: Pool[] = [];
  const poolOf = (max: number, name: string) => {
    const pool = createPool(config.DATABASE_URL, max, logger);
    observePgPool(metrics, pool, name);
    pools.push(pool);
    return pool;
  };
  const pool = poolOf(config.DATABASE_POOL_MAX, 'main');
  const tracing = createTracing(service, config);
  let server: RunningServer | undefined;
  let draining = false;
  let prepared = false;
  const stopping = new AbortController();
  const readinessChecks: ReadinessCheck[] = [
    {
      name: 'startup',
      check: async () => {
        if (!prepared) throw new Error(startUp.notReady);
      },
    },
    { name: 'postgres', check: async () => void (await pool.query('SELECT 1')) },
  ];
  return {
    logger,
    pool,
    metrics,
    tracer: tracing.tracer,
    readinessChecks,
    createPool: poolOf,
    httpApp: (http) =>
      createHttpApp({
        service,
        logger,
        metrics,
        tracer: tracing.tracer,
        bodyLimit: config.HTTP_BODY_LIMIT,
        trustProxy: config.TRUST_PROXY,
        corsOrigins: config.CORS_ORIGINS,
        isDraining: () => draining,
        openapi: http.openapi,
        shedding: http.shedding,
        readinessChecks: [...readinessChecks, ...(http.readinessChecks ?? [])],
        routes: http.routes,
      }),
    async start(app, prepare, startables = []) {
      server = await listen(app, config.HOST, config.PORT);
      await retryUntilDone(prepare, {
        what: 'start-up',
        signal: stopping.signal,
        onFailure: (error, attempt) => {
          if (attempt === 1 || attempt % 10 === 0)
            logger.warn({ err: error, attempt }, `start-up waits for ${startUp.waitsFor}`);
        },
      });
      prepared = true;
      for (const startable of startables) await startable.start();
      logger.info({ url: server.url }, `${service} listening`);
      return server;
    },
    drain: {
      name: 'drain',
      run: async () => {
        draining = true;
        await drainDelay(config.SHUTDOWN_DRAIN_DELAY_MS);
      },
    },
    closeHttp: { name: 'http', run: async () => server?.close(config.SHUTDOWN_GRACE_MS) },
    async stop(steps) {
      stopping.abort();
      await shutdown(
        [
          ...steps,
          { name: 'postgres', run: async () => void (await Promise.all(pools.map((p) => p.end()))) },
          { name: 'tracing', run: () => tracing.shutdown() },
        ],
        config.SHUTDOWN_GRACE_MS,
        logger,
      );
    },
  };
}
