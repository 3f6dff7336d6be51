import { eventStart, moneyAtProvider } from './provider-ledger.ts';
import { type InvariantCheck, verdict } from './types.ts';

/**
 * Every capture on a booking that ended (a late payment, or a paid booking the fan cancelled) followed through to
 * the end: refunded in full at the provider, by its own ledger, and recorded REFUNDED by payment-service. A late
 * payment never brings its booking back: that the history shows no ended booking confirmed again is
 * history-consistent's to judge.
 */
export const latePaymentsRefunded: InvariantCheck = {
  name: 'late-captures-refunded',
  title: 'Late payments refunded',
  async run({ ticket, payment, provider, eventId }) {
    const ended = await ticket.query(
      "SELECT id::text, status, reason FROM reservations WHERE event_id = $1 AND status IN ('CANCELLED', 'EXPIRED')",
      [eventId],
    );
    const paid = await payment.query(
      'SELECT reservation_id::text, status FROM payments WHERE event_id = $1 AND captured_at IS NOT NULL',
      [eventId],
    );
    const recorded = new Map(paid.rows.map((p) => [p.reservation_id as string, p.status as string]));
    const money =
      provider === undefined
        ? undefined
        : await moneyAtProvider(
            provider,
            ended.rows.map((r) => r.id),
            await eventStart(ticket, eventId),
          );
    const violations: unknown[] = [];
    let late = 0;
    for (const r of ended.rows) {
      const m = money?.get(r.id);
      const captured = m === undefined ? recorded.has(r.id) : m.captures.length > 0;
      if (!captured) continue;
      late++;
      const kept =
        m === undefined
          ? undefined
          : m.captures.reduce((s, c) => s + c.amount, 0) - m.refunds.reduce((s, c) => s + c.amount, 0);
      const status = recorded.get(r.id);
      if (kept !== undefined && kept !== 0)
        violations.push({
          reservationId: r.id,
          reservation: r.status,
          payment: status,
          kept,
          problem: `${kept} kept at the provider`,
        });
      else if (status !== 'REFUNDED')
        violations.push({
          reservationId: r.id,
          reservation: r.status,
          payment: status,
          problem: 'not recorded REFUNDED',
        });
    }
    return verdict(
      violations,
      `${late} capture(s) on ended bookings, each refunded in full at the provider and recorded REFUNDED`,
      (n) => `${n} capture(s) on a cancelled or expired booking not followed through to a refund`,
    );
  },
};
