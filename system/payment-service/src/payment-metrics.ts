import type { ServiceMetrics } from '@reservex/kit';
import { Counter, Histogram } from 'prom-client';

/** What the gateway answered, and how long it took, charge by charge and refund by refund. */
export interface GatewayMetrics {
  charged(outcome: string, seconds: number): void;
  refunded(outcome: string): void;
}

export function gatewayMetrics(metrics: ServiceMetrics): GatewayMetrics {
  const outcomes = new Counter({
    name: 'payment_gateway_outcomes_total',
    help: 'Gateway charge outcomes: captured, a decline reason, timeout, or what a lookup recovered',
    labelNames: ['outcome'] as const,
    registers: [metrics.registry],
  });
  const latency = new Histogram({
    name: 'payment_gateway_latency_seconds',
    help: 'Time the gateway took to answer a charge',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [metrics.registry],
  });
  const refunds = new Counter({
    name: 'payment_gateway_refunds_total',
    help: 'Gateway refund outcomes: refunded, or timeout (retried)',
    labelNames: ['outcome'] as const,
    registers: [metrics.registry],
  });
  return {
    charged(outcome, seconds) {
      outcomes.inc({ outcome });
      latency.observe(seconds);
    },
    refunded(outcome) {
      refunds.inc({ outcome });
    },
  };
}
