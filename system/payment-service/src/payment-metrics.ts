import type { ServiceMetrics } from '@reservex/kit';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the provider answered, how long it took, and how payments in doubt were resolved. */
export interface GatewayMetrics {
  charged(outcome: string, seconds: number): void;
  refunded(outcome: string): void;
  /** One lookup or void by the reconciler, by what it learnt. */
  checked(answer: string): void;
  /** A payment in doubt got its outcome, `seconds` after it went in doubt. */
  resolved(outcome: string, seconds: number): void;
  /** A refund the provider refused for good went REFUND_REFUSED. */
  refundRefused(): void;
}

/** Counts read from the payments table when Prometheus scrapes. */
export interface PaymentCounts {
  inDoubt(): Promise<number>;
  refundsRefused(): Promise<number>;
}

/** A gauge read from the database at each scrape; a scrape while the database is away goes on without it. */
function countedGauge(name: string, help: string, registers: Registry[], count: () => Promise<number>) {
  new Gauge({
    name,
    help,
    registers,
    async collect() {
      try {
        this.set(await count());
      } catch {
        // The database is away: the scrape goes on without this value rather than failing.
      }
    },
  });
}

export function gatewayMetrics(metrics: ServiceMetrics, counts: PaymentCounts): GatewayMetrics {
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
    help: 'Provider refund answers: refunded, unknown-<why> (retried with the same key), rejected (REFUND_REFUSED), or error',
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
  countedGauge(
    'payments_in_doubt',
    'Payments whose charge outcome is unknown, waiting for the reconciler',
    registers,
    counts.inDoubt,
  );
  // Unlabelled, so it is exposed (at 0) from start-up, and an alert on its increase sees the first refusal.
  const refusals = new Counter({
    name: 'payment_refunds_refused_total',
    help: 'Refunds the provider refused for good (not-captured, over-refund, validation): each went REFUND_REFUSED',
    registers,
  });
  countedGauge(
    'payments_refund_refused',
    'Payments in REFUND_REFUSED: money owed back that the provider would not refund, for an operator',
    registers,
    counts.refundsRefused,
  );
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
    refundRefused() {
      refusals.inc();
    },
  };
}
