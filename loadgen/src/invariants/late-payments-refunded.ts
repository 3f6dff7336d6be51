import { type InvariantCheck, verdict } from './types.ts';

export const latePaymentsRefunded: InvariantCheck = {
  name: 'late-captures-refunded',
  title: 'Late payments refunded',
  async run({ ticket, payment, eventId }) {
    const ended = await ticket.query(
      "SELECT id, status FROM reservations WHERE event_id = $1 AND status IN ('CANCELLED', 'EXPIRED')",
      [eventId],
    );
    const status = new Map(ended.rows.map((r) => [r.id, r.status]));
    const paid = await payment.query(
      'SELECT reservation_id, status, captured_at, refunded_at FROM payments WHERE event_id = $1 AND captured_at IS NOT NULL',
      [eventId],
    );
    const late = paid.rows.filter((p) => status.has(p.reservation_id));
    const unrefunded = late.filter((p) => p.status !== 'REFUNDED');
    return verdict(
      unrefunded.map((p) => ({ ...p, reservationStatus: status.get(p.reservation_id) })),
      `${late.length} capture(s) on ended reservations, all refunded`,
      (n) => `${n} capture(s) on a cancelled or expired reservation were never refunded`,
    );
  },
};
