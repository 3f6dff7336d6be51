import type pg from 'pg';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface ServiceMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
}

/** One registry per service instance, so tests that start several services in one process do not collide. */
export function createServiceMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // Includes event-loop lag (nodejs_eventloop_lag_*), heap and GC figures.
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'HTTP requests by route and status: rate, errors and duration (RED)',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return { registry, httpDuration };
}

/** The registry's metric of that name, made by `create` the first time: every user of one registry shares it. */
export function metricOnce<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

const observedPools = new WeakMap<Registry, Map<string, pg.Pool>>();

/** Reports each pool's connections (total, idle, waiting) under its name; one gauge serves every pool. */
export function observePgPool(metrics: ServiceMetrics, pool: pg.Pool, name = 'main'): void {
  let pools = observedPools.get(metrics.registry);
  if (pools === undefined) {
    const known = new Map<string, pg.Pool>();
    pools = known;
    observedPools.set(metrics.registry, known);
    new Gauge({
      name: 'db_pool_connections',
      help: 'PostgreSQL pool connections by pool and state',
      labelNames: ['pool', 'state'] as const,
      registers: [metrics.registry],
      collect() {
        for (const [poolName, p] of known) {
          this.set({ pool: poolName, state: 'total' }, p.totalCount);
          this.set({ pool: poolName, state: 'idle' }, p.idleCount);
          this.set({ pool: poolName, state: 'waiting' }, p.waitingCount);
        }
      },
    });
  }
  pools.set(name, pool);
}
