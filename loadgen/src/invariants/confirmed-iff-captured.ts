import { type InvariantCheck, verdict } from './types.ts';

export const confirmedIffCaptured: InvariantCheck = {
  name: 'confirmed-iff-captured',
  title: 'CONFIRMED ⇔ one captured, unrefunded payment',
  async run({ ticket, payment, eventId }) {
    const confirmed = await ticket.query(
      "SELECT id, amount FROM reservations WHERE event_id = $1 AND status = 'CONFIRMED'",
      [eventId],
    );
    const captured = await payment.query(
      "SELECT reservation_id, amount, count(*) OVER (PARTITION BY reservation_id)::int AS n FROM payments WHERE event_id = $1 AND status = 'CAPTURED'",
      [eventId],
    );
    const byReservation = new Map(captured.rows.map((p) => [p.reservation_id, p]));
    const violations: unknown[] = [];
    for (const r of confirmed.rows) {
      const p = byReservation.get(r.id);
      if (p === undefined)
        violations.push({ reservationId: r.id, problem: 'CONFIRMED without a captured payment' });
      else if (p.n !== 1) violations.push({ reservationId: r.id, problem: `${p.n} captured payments` });
      else if (Number(p.amount) !== Number(r.amount))
        violations.push({ reservationId: r.id, problem: `captured ${p.amount}, costs ${r.amount}` });
    }
    const confirmedIds = new Set(confirmed.rows.map((r) => r.id));
    for (const p of captured.rows) {
      if (!confirmedIds.has(p.reservation_id))
        violations.push({
          reservationId: p.reservation_id,
          problem: 'captured, unrefunded, but not CONFIRMED',
        });
    }
    return verdict(
      violations,
      `${confirmed.rowCount} confirmed reservation(s), each with exactly one captured payment, and no other captures`,
      (n) => `${n} mismatch(es) between confirmed reservations and captured payments`,
    );
  },
};
