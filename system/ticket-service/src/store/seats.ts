import type { Queryable } from '@reservex/kit';
import type { SeatStatus } from '../domain/seat-statuses.ts';

export interface Seat {
  id: string;
  section: string;
  row: string;
  number: number;
  price: number;
  status: SeatStatus;
}

/**
 * The no-oversell guard, enforced by PostgreSQL: only rows still AVAILABLE are taken, and rows are locked in id
 * order. A concurrent hold on the same seat waits for the lock, re-reads the row, finds it HELD and takes
 * nothing; the caller compares counts and rolls back. Locking in one order means two overlapping requests
 * cannot deadlock.
 */
export async function holdSeats(
  tx: Queryable,
  eventId: string,
  seatIds: readonly string[],
  reservationId: string,
): Promise<Array<Seat>> {
  const { rows } = await tx.query<{
    id: string;
    section: string;
    row_label: string;
    number: number;
    price: number;
  }>(
    `WITH wanted AS (
       SELECT id FROM seats WHERE event_id = $1 AND id = ANY($2::uuid[]) AND status = 'AVAILABLE'
       ORDER BY id FOR UPDATE
     )
     UPDATE seats s SET status = 'HELD', reservation_id = $3, changed_seq = nextval('seat_change_seq')
     FROM wanted WHERE s.id = wanted.id
     RETURNING s.id, s.section, s.row_label, s.number, s.price`,
    [eventId, seatIds, reservationId],
  );
  return rows.map((r) => ({
    id: r.id,
    section: r.section,
    row: r.row_label,
    number: r.number,
    price: Number(r.price),
    status: 'HELD',
  }));
}

export async function seatMapVersion(db: Queryable, eventId: string): Promise<number> {
  const { rows } = await db.query<{ v: number | null }>(
    'SELECT max(changed_seq) AS v FROM seats WHERE event_id = $1',
    [eventId],
  );
  return Number(rows[0]?.v ?? 0);
}

interface SeatRow {
  id: string;
  section: string;
  row_label: string;
  number: number;
  price: number;
  status: Seat['status'];
}

const toSeat = (r: SeatRow): Seat => ({
  id: r.id,
  section: r.section,
  row: r.row_label,
  number: r.number,
  price: Number(r.price),
  status: r.status,
});

/** The order a seat map lists its seats in, and the order of `seatStatuses`' letters: the same in both. */
const MAP_ORDER = 'section, length(row_label), row_label, number';

export async function seatMap(db: Queryable, eventId: string): Promise<{ version: number; seats: Seat[] }> {
  const { rows } = await db.query<SeatRow & { changed_seq: number }>(
    `SELECT id, section, row_label, number, price, status, changed_seq FROM seats WHERE event_id = $1
     ORDER BY ${MAP_ORDER}`,
    [eventId],
  );
  let version = 0;
  const seats = rows.map((r) => {
    version = Math.max(version, Number(r.changed_seq));
    return toSeat(r);
  });
  return { version, seats };
}

/**
 * Every seat's status as one letter (the first of its name, domain/seat-statuses.ts), in the seat map's order, and
 * the version they stand at, in one statement (one snapshot): at 50,000 seats one string of 50,000 letters, where
 * the whole map is 50,000 rows of seven columns to parse. Only the statuses change once an event exists.
 */
export async function seatStatuses(
  db: Queryable,
  eventId: string,
): Promise<{ version: number; letters: string }> {
  const { rows } = await db.query<{ v: number | null; letters: string | null }>(
    `SELECT max(changed_seq) AS v, string_agg(left(status::text, 1), '' ORDER BY ${MAP_ORDER}) AS letters
     FROM seats WHERE event_id = $1`,
    [eventId],
  );
  return { version: Number(rows[0]?.v ?? 0), letters: rows[0]?.letters ?? '' };
}

export async function seatsOfReservation(db: Queryable, reservationId: string): Promise<Seat[]> {
  const { rows } = await db.query<SeatRow>(
    `SELECT s.id, s.section, s.row_label, s.number, s.price, s.status
     FROM reservation_seats rs JOIN seats s ON s.id = rs.seat_id WHERE rs.reservation_id = $1
     ORDER BY s.section, s.row_label, s.number`,
    [reservationId],
  );
  return rows.map(toSeat);
}
