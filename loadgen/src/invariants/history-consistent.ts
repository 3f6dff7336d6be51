import { type InvariantCheck, verdict } from './types.ts';

/** The reservation edges the saga allows (docs/saga.md), kept here apart from the service's own table. */
const RESERVATION_EDGES = new Set([
  '→PENDING',
  'PENDING→CONFIRMED',
  'PENDING→CANCELLED',
  'PENDING→EXPIRED',
  'CONFIRMED→CANCELLED',
]);
const LIVE = new Set(['PENDING', 'CONFIRMED']);

interface SeatChange {
  seat_id: string;
  from_status: string;
  to_status: string;
  from_reservation: string | null;
  to_reservation: string | null;
  at: Date;
}

/** A seat moves AVAILABLE → HELD (for r) → SOLD (to r), and back to AVAILABLE (from r); never from one holder to another. */
function seatEdgeProblem(c: SeatChange): string | undefined {
  const from = c.from_reservation;
  const to = c.to_reservation;
  if (c.from_status === 'AVAILABLE' && c.to_status === 'HELD' && to !== null) return undefined;
  if (c.from_status === 'HELD' && c.to_status === 'SOLD' && from !== null && from === to) return undefined;
  if ((c.from_status === 'HELD' || c.from_status === 'SOLD') && c.to_status === 'AVAILABLE' && to === null)
    return undefined;
  return `seat moved ${c.from_status}(${from ?? '-'}) → ${c.to_status}(${to ?? '-'})`;
}

/**
 * The audit trail (ticket-service's seat_history and reservation_history, written by triggers in the same
 * transactions) replayed: no seat was in two live reservations at any instant, no reservation or seat moved along
 * an illegal edge, and no fan held more seats than the limit at any moment. The final state hides a double sale
 * that healed; the history does not.
 */
export const historyConsistent: InvariantCheck = {
  name: 'history-consistent',
  title: 'History consistent, at every instant',
  async run({ ticket, eventId }) {
    const exists = await ticket.query("SELECT to_regclass('seat_history') IS NOT NULL AS ok");
    if (!exists.rows[0].ok)
      return { verdict: 'SKIP', detail: 'ticket-service keeps no audit trail', examples: [] };
    const violations: unknown[] = [];
    const moves = await ticket.query(
      'SELECT reservation_id::text, user_id, from_status, to_status, at FROM reservation_history WHERE event_id = $1 ORDER BY id',
      [eventId],
    );
    // Each reservation's live interval, from its creation to its end.
    const live = new Map<string, { user: string; from: number; to: number }>();
    for (const m of moves.rows) {
      const edge = `${m.from_status ?? ''}→${m.to_status}`;
      if (!RESERVATION_EDGES.has(edge))
        violations.push({ reservationId: m.reservation_id, problem: `reservation moved ${edge}`, at: m.at });
      if (m.from_status === null)
        live.set(m.reservation_id, { user: m.user_id, from: m.at.getTime(), to: Infinity });
      else if (LIVE.has(m.from_status) && !LIVE.has(m.to_status)) {
        const interval = live.get(m.reservation_id);
        if (interval !== undefined) interval.to = m.at.getTime();
      }
    }
    const changes = await ticket.query<SeatChange>(
      'SELECT seat_id::text, from_status, to_status, from_reservation::text, to_reservation::text, at FROM seat_history WHERE event_id = $1 ORDER BY seat_id, id',
      [eventId],
    );
    for (const c of changes.rows) {
      const problem = seatEdgeProblem(c);
      if (problem !== undefined) violations.push({ seatId: c.seat_id, problem, at: c.at });
    }
    // No seat in two live reservations at once: the live intervals of the reservations listing a seat never overlap.
    const listed = await ticket.query(
      `SELECT rs.seat_id::text, array_agg(rs.reservation_id::text) AS reservations
       FROM reservation_seats rs JOIN reservations r ON r.id = rs.reservation_id
       WHERE r.event_id = $1 GROUP BY rs.seat_id HAVING count(*) > 1`,
      [eventId],
    );
    for (const { seat_id, reservations } of listed.rows) {
      const intervals = (reservations as string[])
        .map((id) => ({ id, ...live.get(id) }))
        .filter((i): i is { id: string; user: string; from: number; to: number } => i.from !== undefined)
        .sort((a, b) => a.from - b.from);
      for (let i = 1; i < intervals.length; i++) {
        const before = intervals[i - 1]!;
        const after = intervals[i]!;
        if (after.from < before.to)
          violations.push({
            seatId: seat_id,
            problem: `in two live reservations at once: ${before.id} and ${after.id}`,
            at: new Date(after.from),
          });
      }
    }
    // The per-fan limit at every moment: replay each fan's bookings in time order.
    const sizes = await ticket.query(
      `SELECT rs.reservation_id::text AS id, count(*)::int AS n, e.max_seats_per_user AS limit
       FROM reservation_seats rs JOIN reservations r ON r.id = rs.reservation_id JOIN events e ON e.id = r.event_id
       WHERE r.event_id = $1 GROUP BY rs.reservation_id, e.max_seats_per_user`,
      [eventId],
    );
    const size = new Map(sizes.rows.map((s) => [s.id, s.n as number]));
    const limit = sizes.rows[0]?.limit ?? Infinity;
    const steps = [...live.entries()].flatMap(([id, i]) => [
      { user: i.user, at: i.from, delta: size.get(id) ?? 0, id },
      ...(i.to === Infinity ? [] : [{ user: i.user, at: i.to, delta: -(size.get(id) ?? 0), id }]),
    ]);
    steps.sort((a, b) => a.at - b.at || a.delta - b.delta);
    const held = new Map<string, number>();
    for (const s of steps) {
      const now = (held.get(s.user) ?? 0) + s.delta;
      held.set(s.user, now);
      if (now > limit)
        violations.push({
          userId: s.user,
          problem: `held ${now} seats at once, limit ${limit}`,
          at: new Date(s.at),
          reservationId: s.id,
        });
    }
    return verdict(
      violations,
      `${moves.rowCount} reservation move(s) and ${changes.rowCount} seat change(s) replayed: every edge legal, no seat in two live reservations and no fan over the limit at any instant`,
      (n) => `${n} moment(s) in the history that the final state no longer shows`,
    );
  },
};
