import { randomUUID } from 'node:crypto';
import {
  BackgroundLoop,
  extractTraceContext,
  inSpan,
  type Logger,
  type Pool,
  type Tracer,
  withTransaction,
} from '@reservex/kit';
import { onHoldEnded } from '../domain/reservation-saga.ts';
import type { SagaStages } from '../saga-stages.ts';
import { sagaBehindMs } from '../store/consumer-progress.ts';
import { lockExpiredHolds } from '../store/reservations.ts';
import { applyTransition } from '../use-cases/reservation-transitions.ts';

export interface HoldExpiryOptions {
  pool: Pool;
  logger: Logger;
  tracer: Tracer;
  intervalMs: number;
  stages: SagaStages;
  relay: { wake(): void };
  /** How far behind this instance's consumer of the saga's results is (ms). */
  behindMs: () => number;
  /** The longest a hold is extended for results still queued (HOLD_MAX_EXTENSION_SECONDS). */
  maxExtensionSeconds: number;
}

/**
 * The saga's timeout, and the compensation of its first step: holds whose time is up (the fan's deadline, plus
 * the settle window for a payment that started before it) end EXPIRED, their seats go back on sale and
 * saga.reservation.cancelled (reason expired) goes out. However long payment-service is away, no reservation
 * stays PENDING past its settle-by instant.
 */
export class HoldExpiry {
  readonly #options: HoldExpiryOptions;
  readonly #loop: BackgroundLoop;
  readonly #instance = randomUUID();

  constructor(options: HoldExpiryOptions) {
    this.#options = options;
    this.#loop = new BackgroundLoop({
      name: 'hold expiry',
      logger: options.logger,
      idleMs: options.intervalMs,
      pass: async () => {
        const expired = await this.sweep();
        if (expired > 0) options.relay.wake();
        return 'idle';
      },
    });
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** Expires every hold that is due, in batches; returns how many. */
  async sweep(batch = 200): Promise<number> {
    const { pool, tracer, stages, maxExtensionSeconds } = this.#options;
    // Time a payment's result spends queued for this service does not count against the fan: a capture made by
    // settle-by that is still on its way is waited for (bounded), rather than refunded because we were slow.
    const behind = await sagaBehindMs(pool, this.#instance, this.#options.behindMs());
    let total = 0;
    for (;;) {
      const n = await withTransaction(pool, async (tx) => {
        const due = await lockExpiredHolds(tx, batch, behind, maxExtensionSeconds);
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
