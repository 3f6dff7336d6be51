import type { RowChange } from '../wal/pgoutput.ts';
import { type InvariantCheck, verdict } from './types.ts';

/** Slack on every bound below: the sweep's period, its publish grace, a commit, a scrape of the clock. */
export const TIMELINESS_TOLERANCE_MS = 5000;

/** The rules the services ran with, as the scenario set them (the services' defaults otherwise). */
export interface TimelinessRules {
  holdMaxExtensionSeconds: number;
  gatewayTimeoutMs: number;
  reconcileBackoffMaxMs: number;
}

export const DEFAULT_RULES: TimelinessRules = {
  holdMaxExtensionSeconds: 60,
  gatewayTimeoutMs: 3000,
  reconcileBackoffMaxMs: 4000,
};

/** When a status changed to one of `to`, by the commit that changed it (the change log), per row id. */
function endedAt(log: readonly RowChange[] | undefined, table: string, to: readonly string[]) {
  const at = new Map<string, Date>();
  for (const c of log ?? [])
    if (
      c.table === table &&
      c.kind === 'update' &&
      to.includes(c.row.status ?? '') &&
      !at.has(c.row.id ?? '')
    )
      at.set(c.row.id ?? '', c.committedAt);
  return at;
}

/**
 * Nothing waits longer than the design says. A hold that ended without a confirmation (expired, or cancelled for
 * a failed payment) released its seats by its settle-by plus HOLD_MAX_EXTENSION_SECONDS: the sweep extends a hold
 * only while results are queued, and only that long (docs/saga.md). A payment in doubt was resolved within one
 * backoff and two provider deadlines of the moment the provider could answer again, or of its settle-by, when a
 * charge still pending may be waited for. Times come from the databases' change log (the commit that ended each),
 * or from the rows' own stamps when the run kept none.
 */
export const endedInTime: InvariantCheck = {
  name: 'ended-in-time',
  title: 'Holds released and payments in doubt resolved in time',
  async run({ ticket, payment, eventId, changes, rules, paymentOutages }) {
    const r = rules ?? DEFAULT_RULES;
    const violations: unknown[] = [];
    const holdEnds = endedAt(changes?.get('ticket'), 'reservations', ['EXPIRED', 'CANCELLED']);
    const holds = await ticket.query(
      `SELECT id::text, status, reason, settle_by, ended_at FROM reservations
       WHERE event_id = $1 AND (status = 'EXPIRED' OR (status = 'CANCELLED' AND reason = 'payment-failed'))`,
      [eventId],
    );
    const holdBoundMs = r.holdMaxExtensionSeconds * 1000 + TIMELINESS_TOLERANCE_MS;
    let latestHold = 0;
    for (const h of holds.rows) {
      const ended = holdEnds.get(h.id) ?? h.ended_at;
      if (ended === null) continue;
      const past = ended.getTime() - h.settle_by.getTime();
      latestHold = Math.max(latestHold, past);
      if (past > holdBoundMs)
        violations.push({
          reservationId: h.id,
          status: h.status,
          settleBy: h.settle_by,
          endedAt: ended,
          pastSettleByMs: past,
          problem: `its seats were released ${(past / 1000).toFixed(1)} s after settle-by, beyond the ${r.holdMaxExtensionSeconds} s extension`,
        });
    }
    const doubtEnds = endedAt(changes?.get('payment'), 'payments', ['CAPTURED', 'FAILED', 'REFUNDING']);
    const doubts = await payment.query(
      `SELECT id::text, reservation_id::text, settle_by, in_doubt_since, doubt_resolved_at FROM payments
       WHERE event_id = $1 AND in_doubt_since IS NOT NULL`,
      [eventId],
    );
    const outages = (paymentOutages ?? []).map((o) => ({ from: Date.parse(o.from), to: Date.parse(o.to) }));
    const answerMs = r.reconcileBackoffMaxMs + 2 * r.gatewayTimeoutMs + TIMELINESS_TOLERANCE_MS;
    for (const d of doubts.rows) {
      const resolved = doubtEnds.get(d.id) ?? d.doubt_resolved_at;
      if (resolved === undefined || resolved === null) continue; // still in doubt: no-stuck-saga says so
      const since = d.in_doubt_since.getTime();
      // The provider (or payment-service itself) was away: the clock starts again when it came back.
      const answerable = outages
        .filter((o) => o.from <= resolved.getTime() && o.to >= since)
        .reduce((t, o) => Math.max(t, o.to), since);
      const bound = Math.max(answerable, d.settle_by.getTime()) + answerMs;
      if (resolved.getTime() > bound)
        violations.push({
          paymentId: d.id,
          reservationId: d.reservation_id,
          inDoubtSince: d.in_doubt_since,
          resolvedAt: resolved,
          lateByMs: resolved.getTime() - bound,
          problem:
            'in doubt longer than a backoff and two provider deadlines past the moment it could be answered',
        });
    }
    return verdict(
      violations,
      `${holds.rowCount} hold(s) ended without a booking, the latest ${(latestHold / 1000).toFixed(1)} s past settle-by (bound ${r.holdMaxExtensionSeconds} s + ${TIMELINESS_TOLERANCE_MS / 1000} s); ${doubts.rowCount} payment(s) in doubt, each resolved in time`,
      (n) => `${n} hold(s) or payment(s) in doubt that ended later than the design allows`,
    );
  },
};
