import { type InvariantCheck, verdict } from './types.ts';

export const noOverselling: InvariantCheck = {
  id: 1,
  name: 'No overselling',
  async run({ ticket, eventId }) {
    const doubled = await ticket.query(
      `SELECT rs.seat_id, array_agg(r.id) AS reservations FROM reservation_seats rs JOIN reservations r ON r.id = rs.reservation_id
       WHERE r.event_id = $1 AND r.status IN ('PENDING', 'CONFIRMED') GROUP BY rs.seat_id HAVING count(*) > 1`,
      [eventId],
    );
    const soldWithoutSale = await ticket.query(
      `SELECT s.id AS seat_id, s.status, r.status AS reservation_status FROM seats s LEFT JOIN reservations r ON r.id = s.reservation_id
       WHERE s.event_id = $1 AND ((s.status = 'SOLD' AND r.status IS DISTINCT FROM 'CONFIRMED')
                               OR (s.status = 'HELD' AND r.status IS DISTINCT FROM 'PENDING'))`,
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
      [...doubled.rows, ...soldWithoutSale.rows, ...over],
      `${sold} of ${capacity} seats sold; no seat in two live reservations`,
      (n) =>
        `${n} violation(s): a seat in two live reservations, a seat status without its reservation, or sold > capacity`,
    );
  },
};
