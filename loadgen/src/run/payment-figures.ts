import { harnessPool } from '@reservex/stack';
import { eventStart, moneyAtProvider } from '../invariants/provider-ledger.ts';

export interface PaymentFigures {
  /** Payments whose charge answer was lost (timeout, reset, 5xx, outage) at least once. */
  inDoubt: number;
  /** From going in doubt to the provider's record settling it. */
  resolutionMs: { p50: number; p99: number; max: number; count: number };
  /** Still in doubt when the run ended: the stuck-saga check fails on them. */
  unresolved: number;
  /** At the provider: charges captured, and how many of them were given back. */
  providerCaptures: number;
  providerRefunds: number;
  /** Captured, then refunded because the booking had ended meanwhile (not a fan's own cancellation). */
  lateCaptures: number;
  /**
   * Late captures the system caused: the provider captured by the booking's settle-by, so the gateway was in time
   * and the booking ended because the system was slow (docs/saga.md, the hold rule). The rest of the late captures
   * landed after settle-by: the gateway was slower than the settle window.
   */
  wastedCaptures: number;
  /** Bookings whose money the provider captured by their settle-by, and how many of them the system ended. */
  paidInTime: number;
  paidInTimeLost: number;
  /** Refused uncharged because the fan's deadline passed before the charge could start (docs/saga.md). */
  refusedHoldExpired: number;
}

/** The payment side of a run, from payment-service's table and the provider's ledger. */
export async function paymentFigures(o: {
  ticketDb: string;
  paymentDb: string;
  providerDb: string;
  eventId: string;
}): Promise<PaymentFigures | undefined> {
  const ticket = harnessPool(o.ticketDb, 1);
  const payment = harnessPool(o.paymentDb, 1);
  const provider = harnessPool(o.providerDb, 1);
  try {
    const { rows } = await payment.query(
      `SELECT count(*) FILTER (WHERE in_doubt_since IS NOT NULL)::int AS in_doubt,
              count(*) FILTER (WHERE status = 'IN_DOUBT')::int AS unresolved,
              COALESCE(percentile_disc(0.5) WITHIN GROUP (ORDER BY resolved_ms), 0)::int AS p50,
              COALESCE(percentile_disc(0.99) WITHIN GROUP (ORDER BY resolved_ms), 0)::int AS p99,
              COALESCE(max(resolved_ms), 0)::int AS max,
              count(resolved_ms)::int AS resolved,
              count(*) FILTER (WHERE status = 'FAILED' AND failure_reason = 'hold-expired')::int AS hold_expired
       FROM (SELECT status, in_doubt_since, failure_reason,
                    extract(epoch FROM doubt_resolved_at - in_doubt_since) * 1000 AS resolved_ms
             FROM payments WHERE event_id = $1) p`,
      [o.eventId],
    );
    const reservations = await ticket.query(
      'SELECT id::text, status, reason, settle_by FROM reservations WHERE event_id = $1',
      [o.eventId],
    );
    const money = await moneyAtProvider(
      provider,
      reservations.rows.map((r) => r.id),
      await eventStart(ticket, o.eventId),
    );
    let captures = 0;
    let refunds = 0;
    let late = 0;
    let wasted = 0;
    let paidInTime = 0;
    let paidInTimeLost = 0;
    for (const r of reservations.rows) {
      const m = money.get(r.id);
      if (m === undefined) continue;
      captures += m.captures.length;
      refunds += m.refunds.length;
      const inTime = m.captures.some((c) => c.at.getTime() <= r.settle_by.getTime());
      const endedBySystem =
        r.status === 'EXPIRED' || (r.status === 'CANCELLED' && r.reason !== 'user-cancelled');
      if (inTime) paidInTime++;
      if (inTime && endedBySystem) paidInTimeLost++;
      if (m.refunds.length > 0 && r.reason !== 'user-cancelled') {
        late++;
        if (inTime) wasted++;
      }
    }
    const f = rows[0];
    return {
      inDoubt: f.in_doubt,
      resolutionMs: { p50: f.p50, p99: f.p99, max: f.max, count: f.resolved },
      unresolved: f.unresolved,
      providerCaptures: captures,
      providerRefunds: refunds,
      lateCaptures: late,
      wastedCaptures: wasted,
      paidInTime,
      paidInTimeLost,
      refusedHoldExpired: f.hold_expired,
    };
  } catch {
    // A database that cannot be read leaves the figures out; the invariants say what broke.
    return undefined;
  } finally {
    await Promise.all([ticket.end(), payment.end(), provider.end()]);
  }
}
