import { type InvariantCheck, verdict } from './types.ts';

export const noOverselling: InvariantCheck = {
  name: 'no-oversell',
  title: 'No overselling',
  async run({ ticket, eventId }) {
    const doubled = await ticket.query(
      `SELECT rs.seat_id, array_agg(r.id) AS reservations FROM reservation_seats rs JOIN reservations r ON r.id = rs.reservation_id
       WHERE r.event_id = $1 AND r.status IN ('PENDING', 'CONFIRMED') GROUP BY rs.seat_id HAVING count(*) > 1`,
      [eventId],
    );
    const totals = await ticket.query(
      `SELECT count(*)::int AS capacity,
              (SELECT count(*)::int FROM reservation_seats rs JOIN reservations r ON r.id = rs.reservation_id
                WHERE r.event_id = $1 AND r.status = 'CONFIRMED') AS sold
       FROM seats WHERE event_id = $1`,
      [eventId],
    );
    const { capacity, sold } = totals.rows[0];
    const over = sold > capacity ? [{ sold, capacity }] : [];
    return verdict(
      [...doubled.rows, ...over],
      `${sold} of ${capacity} seats sold; no seat in two live reservations`,
      (n) => `${n} violation(s): a seat in two live reservations, or sold > capacity`,
    );
  },
};
