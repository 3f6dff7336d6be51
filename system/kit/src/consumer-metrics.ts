import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { metricOnce } from './metrics.ts';

export interface ConsumerMetrics {
  outcomes: Counter<'topic' | 'outcome'>;
  retries: Counter<'topic' | 'kind'>;
  restarts: Counter;
  lag: Histogram<'topic'>;
  handling: Histogram<'topic'>;
}

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The saga consumer's series. Several consumers can share one registry (one per service process, more in tests):
 * they share one series set, and `saga_consumer_up` follows the first of them.
 */
export function consumerMetrics(registry: Registry, isConsuming: () => boolean): ConsumerMetrics {
  const metrics: ConsumerMetrics = {
    outcomes: metricOnce(
      registry,
      'saga_messages_consumed_total',
      () =>
        new Counter({
          name: 'saga_messages_consumed_total',
          help: 'Messages consumed, by outcome: applied, duplicate (dropped by id) or dead-lettered',
          labelNames: ['topic', 'outcome'] as const,
          registers: [registry],
        }),
    ),
    retries: metricOnce(
      registry,
      'saga_consumer_retries_total',
      () =>
        new Counter({
          name: 'saga_consumer_retries_total',
          help: 'Retries while handling a message: transient (a dependency away), unknown (an unexpected error) or dead-letter (the DLT publish failed)',
          labelNames: ['topic', 'kind'] as const,
          registers: [registry],
        }),
    ),
    restarts: metricOnce(
      registry,
      'saga_consumer_restarts_total',
      () =>
        new Counter({
          name: 'saga_consumer_restarts_total',
          help: 'Times the supervisor rebuilt the Kafka consumer after its stream ended with an error',
          registers: [registry],
        }),
    ),
    lag: metricOnce(
      registry,
      'saga_message_lag_seconds',
      () =>
        new Histogram({
          name: 'saga_message_lag_seconds',
          help: 'From the moment a message was appended to Kafka to the moment its handling began',
          labelNames: ['topic'] as const,
          buckets: BUCKETS,
          registers: [registry],
        }),
    ),
    handling: metricOnce(
      registry,
      'saga_message_handle_seconds',
      () =>
        new Histogram({
          name: 'saga_message_handle_seconds',
          help: 'Time to apply one message, transaction included',
          labelNames: ['topic'] as const,
          buckets: BUCKETS,
          registers: [registry],
        }),
    ),
  };
  metricOnce(
    registry,
    'saga_consumer_up',
    () =>
      new Gauge({
        name: 'saga_consumer_up',
        help: '1 while the saga consumer is consuming, 0 while it reconnects or is stopped',
        registers: [registry],
        collect() {
          this.set(isConsuming() ? 1 : 0);
        },
      }),
  );
  return metrics;
}
