import { type InvariantCheck, verdict } from './types.ts';

/**
 * Seats and reservations agree on who owns what: a booking holds what it says it holds, and a seat's holder
 * lists it. A CONFIRMED booking whose seats went back on sale, or a seat held for a reservation that ended, is
 * caught here even when no one bought the seat again.
 */
export const seatOwnership: InvariantCheck = {
  name: 'seat-ownership',
  title: 'Seat ownership',
  async run({ ticket, eventId }) {
    const bookingsWithoutTheirSeats = await ticket.query(
      `SELECT r.id AS reservation_id, r.status, rs.seat_id, s.status AS seat_status, s.reservation_id AS seat_holder
       FROM reservations r JOIN reservation_seats rs ON rs.reservation_id = r.id JOIN seats s ON s.id = rs.seat_id
       WHERE r.event_id = $1 AND r.status IN ('PENDING', 'CONFIRMED')
         AND (s.reservation_id IS DISTINCT FROM r.id
              OR s.status <> CASE r.status WHEN 'CONFIRMED' THEN 'SOLD' ELSE 'HELD' END)`,
      [eventId],
    );
    const seatsWithoutTheirBooking = await ticket.query(
      `SELECT s.id AS seat_id, s.status AS seat_status, s.reservation_id AS seat_holder, r.status AS holder_status,
              EXISTS (SELECT 1 FROM reservation_seats rs WHERE rs.reservation_id = s.reservation_id AND rs.seat_id = s.id) AS listed
       FROM seats s LEFT JOIN reservations r ON r.id = s.reservation_id
       WHERE s.event_id = $1 AND s.status <> 'AVAILABLE'
         AND (r.status IS DISTINCT FROM CASE s.status WHEN 'SOLD' THEN 'CONFIRMED' ELSE 'PENDING' END
              OR NOT EXISTS (SELECT 1 FROM reservation_seats rs WHERE rs.reservation_id = s.reservation_id AND rs.seat_id = s.id))`,
      [eventId],
    );
    const availableButHeld = await ticket.query(
      "SELECT id AS seat_id, reservation_id FROM seats WHERE event_id = $1 AND status = 'AVAILABLE' AND reservation_id IS NOT NULL",
      [eventId],
    );
    const counts = await ticket.query(
      "SELECT count(*) FILTER (WHERE status = 'SOLD')::int AS sold, count(*) FILTER (WHERE status = 'HELD')::int AS held FROM seats WHERE event_id = $1",
      [eventId],
    );
    const violations = [
      ...bookingsWithoutTheirSeats.rows.map((r) => ({
        ...r,
        problem: `a ${r.status} booking without its seat`,
      })),
      ...seatsWithoutTheirBooking.rows.map((r) => ({
        ...r,
        problem: `a ${r.seat_status} seat whose holder is ${r.holder_status ?? 'missing'}${r.listed ? '' : ' and does not list it'}`,
      })),
      ...availableButHeld.rows.map((r) => ({ ...r, problem: 'an AVAILABLE seat that names a holder' })),
    ];
    const { sold, held } = counts.rows[0];
    return verdict(
      violations,
      `every CONFIRMED booking's seats SOLD to it (${sold}), every PENDING one's HELD for it (${held}), and no seat held or sold for anyone else`,
      (n) => `${n} seat(s) and booking(s) that disagree on who owns what`,
    );
  },
};
