import type { ServiceMetrics } from '@reservex/kit';
import { Counter, Gauge, Histogram } from 'prom-client';

/** What the provider answered, how long it took, and how payments in doubt were resolved. */
export interface GatewayMetrics {
  charged(outcome: string, seconds: number): void;
  refunded(outcome: string): void;
  /** One lookup or void by the reconciler, by what it learnt. */
  checked(answer: string): void;
  /** A payment in doubt got its outcome, `seconds` after it went in doubt. */
  resolved(outcome: string, seconds: number): void;
}

export function gatewayMetrics(metrics: ServiceMetrics, countInDoubt: () => Promise<number>): GatewayMetrics {
  const registers = [metrics.registry];
  const outcomes = new Counter({
    name: 'payment_gateway_outcomes_total',
    help: 'Provider charge answers: captured, a decline reason, or unknown-<why> (timeout, connection, http-5xx, pending)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'payment_gateway_latency_seconds',
    help: 'Time the provider took to answer a charge (or the deadline, for an answer that never came)',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers,
  });
  const refunds = new Counter({
    name: 'payment_gateway_refunds_total',
    help: 'Provider refund answers: refunded, unknown-<why> (retried with the same key), or rejected',
    labelNames: ['outcome'] as const,
    registers,
  });
  const checks = new Counter({
    name: 'payment_reconciler_checks_total',
    help: 'Lookups and voids by the reconciler, by what the provider said',
    labelNames: ['answer'] as const,
    registers,
  });
  const resolution = new Histogram({
    name: 'payment_in_doubt_resolution_seconds',
    help: 'From a payment going in doubt to its outcome being known, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120],
    registers,
  });
  new Gauge({
    name: 'payments_in_doubt',
    help: 'Payments whose charge outcome is unknown, waiting for the reconciler',
    registers,
    async collect() {
      try {
        this.set(await countInDoubt());
      } catch {
        // The database is away: the scrape goes on without this value rather than failing.
      }
    },
  });
  return {
    charged(outcome, seconds) {
      outcomes.inc({ outcome });
      latency.observe(seconds);
    },
    refunded(outcome) {
      refunds.inc({ outcome });
    },
    checked(answer) {
      checks.inc({ answer });
    },
    resolved(outcome, seconds) {
      resolution.observe({ outcome }, seconds);
    },
  };
}
