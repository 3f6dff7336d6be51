import type { Queryable } from '@reservex/kit';
import type { SeatSpec } from '../domain/event-layout.ts';

export interface TicketedEvent {
  id: string;
  name: string;
  venue: string;
  startsAt: Date;
  salesOpenAt: Date;
  holdSeconds: number;
  maxSeatsPerUser: number;
  currency: string;
  createdAt: Date;
  queue?: { opensAt: Date; admitPerSecond: number; maxActive: number };
}

interface Row {
  id: string;
  name: string;
  venue: string;
  starts_at: Date;
  sales_open_at: Date;
  hold_seconds: number;
  max_seats_per_user: number;
  currency: string;
  created_at: Date;
  queue_opens_at: Date | null;
  admit_per_second: number | null;
  max_active: number | null;
}

const toEvent = (r: Row): TicketedEvent => ({
  id: r.id,
  name: r.name,
  venue: r.venue,
  startsAt: r.starts_at,
  salesOpenAt: r.sales_open_at,
  holdSeconds: r.hold_seconds,
  maxSeatsPerUser: r.max_seats_per_user,
  currency: r.currency,
  createdAt: r.created_at,
  queue:
    r.queue_opens_at === null
      ? undefined
      : { opensAt: r.queue_opens_at, admitPerSecond: r.admit_per_second!, maxActive: r.max_active! },
});

export async function insertEvent(
  tx: Queryable,
  e: Omit<TicketedEvent, 'createdAt'>,
  seats: SeatSpec[],
): Promise<void> {
  await tx.query(
    `INSERT INTO events (id, name, venue, starts_at, sales_open_at, hold_seconds, max_seats_per_user, currency,
                         queue_opens_at, admit_per_second, max_active)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      e.id,
      e.name,
      e.venue,
      e.startsAt,
      e.salesOpenAt,
      e.holdSeconds,
      e.maxSeatsPerUser,
      e.currency,
      e.queue?.opensAt ?? null,
      e.queue?.admitPerSecond ?? null,
      e.queue?.maxActive ?? null,
    ],
  );
  // One statement per 10,000 seats: unnest keeps a 100,000-seat venue to a handful of round trips.
  for (let i = 0; i < seats.length; i += 10_000) {
    const chunk = seats.slice(i, i + 10_000);
    await tx.query(
      `INSERT INTO seats (id, event_id, section, row_label, number, price)
       SELECT gen_random_uuid(), $1, s, r, n, p FROM unnest($2::text[], $3::text[], $4::int[], $5::bigint[]) AS t(s, r, n, p)`,
      [
        e.id,
        chunk.map((s) => s.section),
        chunk.map((s) => s.row),
        chunk.map((s) => s.number),
        chunk.map((s) => s.price),
      ],
    );
  }
}

export async function findEvent(db: Queryable, id: string): Promise<TicketedEvent | undefined> {
  const { rows } = await db.query<Row>('SELECT * FROM events WHERE id = $1', [id]);
  return rows[0] === undefined ? undefined : toEvent(rows[0]);
}

/**
 * The event, with how many seats the fan holds or bought at it: one round trip for the booking's checks. Run it
 * after the fan's lock is taken, so the count includes every booking of the fan that committed before.
 */
export async function findEventForFan(
  db: Queryable,
  id: string,
  userId: string,
): Promise<{ event: TicketedEvent; fanSeats: number } | undefined> {
  const { rows } = await db.query<Row & { fan_seats: number }>(
    `SELECT e.*, (SELECT count(*) FROM reservation_seats rs JOIN reservations r ON r.id = rs.reservation_id
                  WHERE r.user_id = $2 AND r.event_id = e.id AND r.status IN ('PENDING', 'CONFIRMED')) AS fan_seats
     FROM events e WHERE e.id = $1`,
    [id, userId],
  );
  return rows[0] === undefined ? undefined : { event: toEvent(rows[0]), fanSeats: Number(rows[0].fan_seats) };
}

export interface EventSummary extends TicketedEvent {
  capacity: number;
  available: number;
  held: number;
  sold: number;
}

export async function listEvents(db: Queryable, limit: number): Promise<EventSummary[]> {
  const { rows } = await db.query<Row & { capacity: number; available: number; held: number; sold: number }>(
    `SELECT e.*,
       (SELECT count(*) FROM seats s WHERE s.event_id = e.id) AS capacity,
       (SELECT count(*) FROM seats s WHERE s.event_id = e.id AND s.status = 'AVAILABLE') AS available,
       (SELECT count(*) FROM seats s WHERE s.event_id = e.id AND s.status = 'HELD') AS held,
       (SELECT count(*) FROM seats s WHERE s.event_id = e.id AND s.status = 'SOLD') AS sold
     FROM events e ORDER BY e.starts_at < now(), e.starts_at, e.id LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({
    ...toEvent(r),
    capacity: r.capacity,
    available: r.available,
    held: r.held,
    sold: r.sold,
  }));
}

export async function seatCounts(db: Queryable, eventId: string) {
  const { rows } = await db.query<{ section: string; status: string; n: number; price: number }>(
    `SELECT section, status, count(*) AS n, max(price) AS price FROM seats WHERE event_id = $1 GROUP BY section, status`,
    [eventId],
  );
  return rows;
}
