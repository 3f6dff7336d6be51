import { tracingConfigSchema } from '../config.ts';
import type { HttpAppOptions } from '../http-app.ts';
import { createLogger } from '../logger.ts';
import { createServiceMetrics } from '../metrics.ts';
import { createTracing } from '../tracing.ts';

/**
 * What a test's app needs of createHttpApp besides its routes, named after the test: silent logs, metrics and a
 * tracer of its own, no readiness checks, an empty OpenAPI document. A test overrides what it is about.
 */
export function testAppOptions(service: string): Omit<HttpAppOptions, 'routes'> {
  return {
    service,
    logger: createLogger(service, 'silent'),
    metrics: createServiceMetrics(service),
    tracer: createTracing(service, tracingConfigSchema.parse({})).tracer,
    bodyLimit: '1kb',
    openapi: {},
    readinessChecks: [],
  };
}
