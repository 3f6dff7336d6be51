import { eventStart, UUID_PATTERN } from './provider-ledger.ts';
import { type InvariantCheck, verdict } from './types.ts';

/**
 * The hold rule's promise, judged from the provider's side (docs/saga.md): a fan whose money was captured by the
 * booking's settle-by keeps the seat. A booking the system ended (expired, or cancelled for any reason but the
 * fan's own) must have no capture at the provider at or before its settle-by, whatever ticket-service and
 * payment-service believe: the capture's time is the provider's ledger entry, not a service's clock.
 */
export const paidInTimeKept: InvariantCheck = {
  name: 'paid-in-time-kept',
  title: 'Fans who paid in time kept their seats',
  async run({ ticket, provider, eventId }) {
    if (provider === undefined)
      return { verdict: 'SKIP', detail: "the provider's database was not given", examples: [] };
    const { rows: reservations } = await ticket.query(
      `SELECT id::text, status, reason, settle_by FROM reservations WHERE event_id = $1`,
      [eventId],
    );
    const { rows: captures } = await provider.query(
      `SELECT substring(key FROM '${UUID_PATTERN}') AS reservation_id, min(recorded_at) AS captured_at
       FROM ledger_entries
       WHERE kind = 'capture' AND recorded_at >= $1 AND substring(key FROM '${UUID_PATTERN}') = ANY($2::text[])
       GROUP BY 1`,
      [await eventStart(ticket, eventId), reservations.map((r) => r.id)],
    );
    const capturedAt = new Map(captures.map((c) => [c.reservation_id as string, c.captured_at as Date]));
    const lost: unknown[] = [];
    let paidInTime = 0;
    for (const r of reservations) {
      const at = capturedAt.get(r.id);
      if (at === undefined || at.getTime() > r.settle_by.getTime()) continue;
      paidInTime++;
      const endedBySystem =
        r.status === 'EXPIRED' || (r.status === 'CANCELLED' && r.reason !== 'user-cancelled');
      if (endedBySystem)
        lost.push({
          reservationId: r.id,
          status: r.status,
          reason: r.reason,
          settleBy: r.settle_by,
          capturedAt: at,
          capturedBeforeSettleByMs: r.settle_by.getTime() - at.getTime(),
        });
    }
    return verdict(
      lost,
      `${paidInTime} fan(s) paid by their settle-by at the provider, and all ${paidInTime} kept their seats (or cancelled them themselves)`,
      (n) =>
        `${n} of ${paidInTime} fan(s) who paid by their settle-by lost the seat: the system ended the booking`,
    );
  },
};
