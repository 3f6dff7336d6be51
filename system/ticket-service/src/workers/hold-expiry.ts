import {
  BackgroundWorker,
  extractTraceContext,
  inSpan,
  type Logger,
  type PassResult,
  type Pool,
  type Tracer,
  withTransaction,
} from '@reservex/kit';
import { onHoldEnded } from '../domain/reservation-saga.ts';
import type { SagaStages } from '../saga-stages.ts';
import { lockExpiredHolds } from '../store/reservations.ts';
import { applyTransition } from '../use-cases/reservation-transitions.ts';

export interface HoldExpiryOptions {
  pool: Pool;
  logger: Logger;
  tracer: Tracer;
  intervalMs: number;
  stages: SagaStages;
  relay: { wake(): void };
  /**
   * Every payment result appended to Kafka before this moment has been consumed (epoch ms), read from the log
   * (ConsumerBacklog); undefined while that is not known: the consumer has not caught up since this instance
   * started, or Kafka cannot be asked.
   */
  resultsConsumedThrough: () => number | undefined;
  /** How long a capture made at settle-by may take to reach Kafka (HOLD_PUBLISH_GRACE_MS). */
  publishGraceMs: number;
  /** The longest a hold is extended for results still queued (HOLD_MAX_EXTENSION_SECONDS). */
  maxExtensionSeconds: number;
}

/**
 * The saga's timeout, and the compensation of its first step: holds whose time is up (the fan's deadline, plus
 * the settle window for a payment that started before it) end EXPIRED, their seats go back on sale and
 * saga.reservation.cancelled (reason expired) goes out. However long payment-service or this service's own
 * consumer is away, no reservation stays PENDING past settle-by plus HOLD_MAX_EXTENSION_SECONDS.
 */
export class HoldExpiry extends BackgroundWorker {
  readonly #options: HoldExpiryOptions;

  constructor(options: HoldExpiryOptions) {
    super({ name: 'hold expiry', logger: options.logger, idleMs: options.intervalMs });
    this.#options = options;
  }

  protected override async pass(): Promise<PassResult> {
    const expired = await this.sweep();
    if (expired > 0) this.#options.relay.wake();
    return 'idle';
  }

  /** Expires every hold that is due, in batches; returns how many. */
  async sweep(batch = 200): Promise<number> {
    const { pool, tracer, stages, maxExtensionSeconds, publishGraceMs } = this.#options;
    // Time a payment's result spends queued for this service does not count against the fan: a hold ends only once
    // every result that could confirm it has been consumed (the log read that far past its settle-by), or at the
    // bound. A consumer that is stalled, rebalancing or restarting consumes nothing, so holds wait for it.
    const consumed = this.#options.resultsConsumedThrough();
    const through = consumed === undefined ? undefined : new Date(consumed - publishGraceMs);
    let total = 0;
    for (;;) {
      const n = await withTransaction(pool, async (tx) => {
        const due = await lockExpiredHolds(tx, batch, through, maxExtensionSeconds);
        for (const reservation of due) {
          if (onHoldEnded(reservation).kind === 'nothing') continue;
          // Inside the booking's own trace, so the compensation it causes is found with the booking.
          await inSpan(
            tracer,
            'reservation hold expired',
            {
              parent: extractTraceContext(reservation.traceContext),
              attributes: { 'reservex.reservation.id': reservation.id },
            },
            () => applyTransition(tx, reservation, 'expire'),
          );
          stages.reached('expired');
        }
        return due.length;
      });
      total += n;
      if (n < batch) return total;
    }
  }
}
