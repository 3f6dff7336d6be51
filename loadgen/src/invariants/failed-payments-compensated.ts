import { type InvariantCheck, verdict } from './types.ts';

export const failedPaymentsCompensated: InvariantCheck = {
  id: 2,
  name: 'Every failed payment compensated',
  async run({ ticket, payment, eventId, wire }) {
    const failed = await payment.query(
      "SELECT reservation_id, failure_reason FROM payments WHERE event_id = $1 AND status = 'FAILED'",
      [eventId],
    );
    const ids = failed.rows.map((r) => r.reservation_id);
    const open = await ticket.query(
      `SELECT r.id, r.status, (SELECT count(*)::int FROM seats s WHERE s.reservation_id = r.id) AS seats_still_held
       FROM reservations r WHERE r.id = ANY($1::uuid[])
         AND (r.status NOT IN ('CANCELLED', 'EXPIRED') OR EXISTS (SELECT 1 FROM seats s WHERE s.reservation_id = r.id))`,
      [ids],
    );
    const violations: unknown[] = [...open.rows];
    // On the wire too: every payment.failed is answered by a reservation.cancelled for the same reservation.
    if (wire !== undefined) {
      const cancelled = new Set(
        (wire.byTopic.get('saga.reservation.cancelled') ?? []).map((e) => e.reservationId),
      );
      for (const e of wire.byTopic.get('saga.payment.failed') ?? []) {
        const known = await ticket.query('SELECT status FROM reservations WHERE id = $1', [e.reservationId]);
        // A failure for a reservation that had already ended needs no compensation of its own.
        if (known.rows[0]?.status === 'CANCELLED' && !cancelled.has(e.reservationId)) {
          violations.push({
            reservationId: e.reservationId,
            problem: 'payment.failed on Kafka with no reservation.cancelled',
          });
        }
      }
    }
    return verdict(
      violations,
      `${failed.rowCount} failed payment(s), each with its reservation cancelled and seats released`,
      (n) => `${n} failed payment(s) whose reservation was not cancelled, or kept its seats`,
    );
  },
};
