import { type InvariantCheck, verdict } from './types.ts';

/**
 * The hold rule (docs/saga.md): a booking confirms on a capture made by its settle-by instant or not at all
 * (ticket-service may read that capture later: time in its own queue does not count against the fan), and is not
 * expired before settle-by. A confirmation on a later capture is allowed only when its money went back.
 */
export const holdsHonoured: InvariantCheck = {
  name: 'holds-honoured',
  title: 'Holds honoured',
  async run({ ticket, eventId }) {
    const lateConfirmations = await ticket.query(
      `SELECT id AS reservation_id, settle_by, captured_at, confirmed_at, status FROM reservations
       WHERE event_id = $1 AND COALESCE(captured_at, confirmed_at) > settle_by AND status = 'CONFIRMED'`,
      [eventId],
    );
    const cutShort = await ticket.query(
      `SELECT id AS reservation_id, settle_by, ended_at FROM reservations
       WHERE event_id = $1 AND status = 'EXPIRED' AND ended_at < settle_by`,
      [eventId],
    );
    const expired = await ticket.query(
      "SELECT count(*)::int AS n FROM reservations WHERE event_id = $1 AND status = 'EXPIRED'",
      [eventId],
    );
    return verdict(
      [
        ...lateConfirmations.rows.map((r) => ({ ...r, problem: 'confirmed after its hold ended, and kept' })),
        ...cutShort.rows.map((r) => ({ ...r, problem: 'expired before its settle-by instant' })),
      ],
      `no booking confirmed after its hold ended; ${expired.rows[0].n} expired, none before its time`,
      (n) => `${n} booking(s) whose hold was not honoured`,
    );
  },
};
