import type { ServiceMetrics } from '@reservex/kit';
import { Counter, Histogram } from 'prom-client';

export type SagaStage =
  | 'created'
  | 'confirmed'
  | 'compensated'
  | 'expired'
  | 'cancelled'
  | 'refunded'
  | 'late-payment';

/** Counts the stages reservations reach, and how long after the booking each was reached. */
export interface SagaStages {
  reached(stage: SagaStage, reservation?: { createdAt: Date }): void;
}

export function sagaStages(metrics: ServiceMetrics): SagaStages {
  const stages = new Counter({
    name: 'saga_stage_total',
    help: 'Reservation saga stages reached: created, confirmed, compensated, expired, cancelled, refunded, late-payment',
    labelNames: ['stage'] as const,
    registers: [metrics.registry],
  });
  const stageSeconds = new Histogram({
    name: 'saga_stage_duration_seconds',
    help: 'From the reservation to the saga reaching a stage (confirmed, compensated, refunded, late-payment)',
    labelNames: ['stage'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120],
    registers: [metrics.registry],
  });
  return {
    reached(stage, reservation) {
      stages.inc({ stage });
      if (reservation !== undefined)
        stageSeconds.observe({ stage }, (Date.now() - reservation.createdAt.getTime()) / 1000);
    },
  };
}
