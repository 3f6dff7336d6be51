import { type InvariantCheck, verdict } from './types.ts';

export const seatLimitPerFan: InvariantCheck = {
  name: 'seat-limit-per-fan',
  title: 'Per-fan seat limit',
  async run({ ticket, eventId }) {
    const { rows } = await ticket.query(
      `SELECT r.user_id, count(*)::int AS seats, e.max_seats_per_user AS limit
       FROM reservation_seats rs JOIN reservations r ON r.id = rs.reservation_id JOIN events e ON e.id = r.event_id
       WHERE r.event_id = $1 AND r.status IN ('PENDING', 'CONFIRMED')
       GROUP BY r.user_id, e.max_seats_per_user HAVING count(*) > e.max_seats_per_user`,
      [eventId],
    );
    const fans = await ticket.query(
      "SELECT count(DISTINCT user_id)::int AS n FROM reservations WHERE event_id = $1 AND status IN ('PENDING', 'CONFIRMED')",
      [eventId],
    );
    return verdict(
      rows,
      `${fans.rows[0].n} fan(s) with live bookings, none above the event's per-fan limit`,
      (n) => `${n} fan(s) holding more seats than the event allows`,
    );
  },
};
