import { type InvariantCheck, verdict } from './types.ts';

export const moneyConserved: InvariantCheck = {
  id: 6,
  name: 'Money conserved',
  async run({ ticket, payment, eventId }) {
    const money = await payment.query(
      `SELECT COALESCE(sum(amount) FILTER (WHERE captured_at IS NOT NULL), 0)::bigint AS captured,
              COALESCE(sum(amount) FILTER (WHERE status = 'REFUNDED'), 0)::bigint AS refunded
       FROM payments WHERE event_id = $1`,
      [eventId],
    );
    const sold = await ticket.query(
      "SELECT COALESCE(sum(amount), 0)::bigint AS confirmed FROM reservations WHERE event_id = $1 AND status = 'CONFIRMED'",
      [eventId],
    );
    const captured = Number(money.rows[0].captured);
    const refunded = Number(money.rows[0].refunded);
    const confirmed = Number(sold.rows[0].confirmed);
    const kept = captured - refunded;
    return verdict(
      kept === confirmed ? [] : [{ captured, refunded, kept, confirmed, difference: kept - confirmed }],
      `captured ${captured} − refunded ${refunded} = ${kept} = confirmed ${confirmed}`,
      () =>
        `captured ${captured} − refunded ${refunded} = ${kept}, but confirmed reservations sum to ${confirmed}`,
    );
  },
};
