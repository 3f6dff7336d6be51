import { type InvariantCheck, verdict } from './types.ts';

/**
 * Every misbehaviour the run saw refused left nothing behind: no booking under a refused attempt's key, and a
 * reused key's booking still holding the seats it was made for.
 */
export const refusalsLeftNothing: InvariantCheck = {
  name: 'refusals-left-nothing',
  title: 'Refused requests left nothing behind',
  async run({ ticket, eventId, refusals }) {
    if (refusals === undefined || refusals.length === 0)
      return { verdict: 'SKIP', detail: 'no misbehaving fan was refused in this run', examples: [] };
    const { rows } = await ticket.query(
      `SELECT r.user_id, r.idempotency_key, r.id, r.status, array_agg(rs.seat_id::text ORDER BY rs.seat_id) AS seats
       FROM reservations r JOIN reservation_seats rs ON rs.reservation_id = r.id
       WHERE r.event_id = $1 AND (r.user_id, r.idempotency_key) IN (SELECT * FROM unnest($2::text[], $3::text[]))
       GROUP BY r.id`,
      [eventId, refusals.map((r) => r.userId), refusals.map((r) => r.idempotencyKey)],
    );
    const found = new Map(rows.map((r) => [`${r.user_id}/${r.idempotency_key}`, r]));
    const violations: unknown[] = [];
    for (const refusal of refusals) {
      const booking = found.get(`${refusal.userId}/${refusal.idempotencyKey}`);
      if (refusal.keptSeats === undefined) {
        if (booking !== undefined)
          violations.push({ ...refusal, booking, problem: 'refused, yet a booking exists under its key' });
      } else if (booking === undefined || [...refusal.keptSeats].sort().join() !== booking.seats.join()) {
        violations.push({
          ...refusal,
          booking,
          problem: 'the reused key’s booking no longer holds the seats it was made for',
        });
      }
    }
    return verdict(
      violations,
      `${refusals.length} refused attempt(s), none of which booked anything or changed a booking`,
      (n) => `${n} refused attempt(s) that left something behind`,
    );
  },
};
