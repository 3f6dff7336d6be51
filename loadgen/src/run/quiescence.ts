import { setTimeout as sleep } from 'node:timers/promises';
import { harnessPool } from '@reservex/stack';

export interface QuiescenceResult {
  reached: boolean;
  waitedMs: number;
  pending: number;
  processing: number;
  unpublished: number;
}

/**
 * Waits until the saga has settled for the event: no PENDING reservation, no payment being charged or refunded, both outboxes
 * drained, and the same picture twice in a row. Gives up at the deadline; the checker then reports what is stuck.
 */
export async function awaitQuiescence(
  ticketDb: string,
  paymentDb: string,
  eventId: string,
  timeoutMs: number,
): Promise<QuiescenceResult> {
  const ticket = harnessPool(ticketDb, 1);
  const payment = harnessPool(paymentDb, 1);
  const started = Date.now();
  let last = '';
  let state = { pending: -1, processing: -1, unpublished: -1 };
  try {
    while (Date.now() - started < timeoutMs) {
      const [r, p, o1, o2, fingerprint] = await Promise.all([
        ticket.query(
          "SELECT count(*)::int AS n FROM reservations WHERE event_id = $1 AND status = 'PENDING'",
          [eventId],
        ),
        // A payment being charged, in doubt or refunded has not settled yet.
        payment.query(
          "SELECT count(*)::int AS n FROM payments WHERE event_id = $1 AND status IN ('PROCESSING', 'IN_DOUBT', 'REFUNDING')",
          [eventId],
        ),
        // Rows Kafka refused for good never drain: the checker reports them, quiescence does not wait for them.
        ticket.query(
          'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND rejected_at IS NULL',
        ),
        payment.query(
          'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND rejected_at IS NULL',
        ),
        payment.query(
          "SELECT string_agg(status || count, ',' ORDER BY status) AS f FROM (SELECT status, count(*) FROM payments WHERE event_id = $1 GROUP BY status) x",
          [eventId],
        ),
      ]);
      state = { pending: r.rows[0].n, processing: p.rows[0].n, unpublished: o1.rows[0].n + o2.rows[0].n };
      const now = `${JSON.stringify(state)}|${fingerprint.rows[0].f}`;
      if (state.pending === 0 && state.processing === 0 && state.unpublished === 0 && now === last) {
        return { reached: true, waitedMs: Date.now() - started, ...state };
      }
      last = now;
      await sleep(1000);
    }
    return { reached: false, waitedMs: Date.now() - started, ...state };
  } finally {
    await Promise.all([ticket.end(), payment.end()]);
  }
}
