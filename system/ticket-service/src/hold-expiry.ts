import {
  extractTraceContext,
  inSpan,
  type Logger,
  type Pool,
  type Tracer,
  withTransaction,
} from '@reservex/kit';
import { applyTransition } from './reservation-transitions.ts';
import { lockExpiredHolds } from './store/reservations.ts';

/**
 * Ends holds whose time is up: EXPIRED, seats released, saga.reservation.cancelled (reason expired). This is the
 * saga's timeout: however long the payment service is away, no reservation stays PENDING past its hold.
 */
export class HoldExpiry {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  readonly pool: Pool;
  readonly logger: Logger;
  readonly tracer: Tracer;
  readonly intervalMs: number;
  readonly onExpired: (count: number) => void;

  constructor(
    pool: Pool,
    logger: Logger,
    tracer: Tracer,
    intervalMs: number,
    onExpired: (count: number) => void,
  ) {
    this.pool = pool;
    this.logger = logger;
    this.tracer = tracer;
    this.intervalMs = intervalMs;
    this.onExpired = onExpired;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#running ??= this.sweep()
        .then((n) => {
          if (n > 0) this.onExpired(n);
        })
        .catch((error) => this.logger.error({ err: error }, 'hold expiry sweep failed'))
        .finally(() => {
          this.#running = undefined;
        });
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** Expires every hold that is due, in batches; returns how many. */
  async sweep(batch = 200): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await withTransaction(this.pool, async (tx) => {
        const due = await lockExpiredHolds(tx, batch);
        for (const reservation of due) {
          // Inside the booking's own trace, so the compensation it causes is found with the booking.
          await inSpan(
            this.tracer,
            'reservation hold expired',
            {
              parent: extractTraceContext(reservation.traceContext),
              attributes: { 'reservex.reservation.id': reservation.id },
            },
            () => applyTransition(tx, reservation, 'expire'),
          );
        }
        return due.length;
      });
      total += n;
      if (n < batch) return total;
    }
  }
}
