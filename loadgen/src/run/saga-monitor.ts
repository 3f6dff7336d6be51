import { harnessPool } from '@reservex/stack';
import type pg from 'pg';

export interface BacklogSample {
  /** Milliseconds since the epoch. */
  at: number;
  /** Messages waiting in both outboxes; null when a database could not be read. */
  outbox: number | null;
  /** PENDING reservations past their settle-by instant by more than a sweep: the saga is behind. */
  overdue: number | null;
}

/**
 * Watches the saga from the databases while the run goes on, once a second, to say how long the system took to
 * drain after each fault: the first moment after it when no message waits in an outbox and no hold is overdue.
 */
export class SagaMonitor {
  readonly samples: BacklogSample[] = [];
  readonly #ticket: pg.Pool;
  readonly #payment: pg.Pool;
  readonly #eventId: string;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(ticketDb: string, paymentDb: string, eventId: string) {
    // Short timeouts: during a PostgreSQL outage a sample is a gap, not a hang.
    this.#ticket = harnessPool(ticketDb, 1, true);
    this.#payment = harnessPool(paymentDb, 1, true);
    this.#eventId = eventId;
  }

  start(): void {
    this.#timer = setInterval(() => void this.#sample(), 1000);
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    await Promise.all([this.#ticket.end(), this.#payment.end()]);
  }

  async #sample(): Promise<void> {
    const at = Date.now();
    try {
      const [t, p, overdue] = await Promise.all([
        this.#ticket.query(
          'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND rejected_at IS NULL',
        ),
        this.#payment.query(
          'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND rejected_at IS NULL',
        ),
        this.#ticket.query(
          "SELECT count(*)::int AS n FROM reservations WHERE event_id = $1 AND status = 'PENDING' AND settle_by < now() - interval '2 seconds'",
          [this.#eventId],
        ),
      ]);
      this.samples.push({ at, outbox: t.rows[0].n + p.rows[0].n, overdue: overdue.rows[0].n });
    } catch {
      this.samples.push({ at, outbox: null, overdue: null });
    }
  }

  /** Seconds from `since` until the saga was drained, or undefined if it was not within the run. */
  drainedAfter(since: number): number | undefined {
    const drained = this.samples.find((s) => s.at >= since && s.outbox === 0 && s.overdue === 0);
    return drained === undefined ? undefined : Math.round((drained.at - since) / 100) / 10;
  }
}
