import {
  injectTraceContext,
  isUniqueViolation,
  type Pool,
  type PoolClient,
  type Queryable,
  type TraceCarrier,
  withTransaction,
} from '@reservex/kit';
import type { ReservationStatus } from '../domain/reservation-status.ts';
import { AdmissionSpent, IdempotencyKeyReused, SeatUnavailable } from '../domain/ticket-errors.ts';

export interface Reservation {
  id: string;
  eventId: string;
  userId: string;
  status: ReservationStatus;
  reason: string | null;
  amount: number;
  currency: string;
  /** The fan's deadline: no charge starts after it. */
  expiresAt: Date;
  /** When a payment that started in time must have landed; the hold ends then (docs/saga.md, the hold rule). */
  settleBy: Date;
  idempotencyKey: string | null;
  paymentId: string | null;
  paymentFailure: string | null;
  createdAt: Date;
  confirmedAt: Date | null;
  endedAt: Date | null;
  refundedAt: Date | null;
  traceContext: TraceCarrier;
}

interface Row {
  id: string;
  event_id: string;
  user_id: string;
  status: ReservationStatus;
  reason: string | null;
  amount: number;
  currency: string;
  expires_at: Date;
  settle_by: Date;
  idempotency_key: string | null;
  payment_id: string | null;
  payment_failure: string | null;
  created_at: Date;
  confirmed_at: Date | null;
  ended_at: Date | null;
  refunded_at: Date | null;
  trace_context: TraceCarrier;
}

const toReservation = (r: Row): Reservation => ({
  id: r.id,
  eventId: r.event_id,
  userId: r.user_id,
  status: r.status,
  reason: r.reason,
  amount: Number(r.amount),
  currency: r.currency,
  expiresAt: r.expires_at,
  settleBy: r.settle_by,
  idempotencyKey: r.idempotency_key,
  paymentId: r.payment_id,
  paymentFailure: r.payment_failure,
  createdAt: r.created_at,
  confirmedAt: r.confirmed_at,
  endedAt: r.ended_at,
  refundedAt: r.refunded_at,
  traceContext: r.trace_context,
});

// Deadlock and serialization failures: the database chose a loser among concurrent holds. To the caller it is
// the same as losing the race for a seat.
const CONTENTION = new Set(['40P01', '40001']);

/**
 * The booking's transaction, with PostgreSQL's answers turned into the domain's: a lost race for a seat is
 * SeatUnavailable, a second booking with one admission is AdmissionSpent (the unique key is what makes an
 * admission single-use), and a second booking with one Idempotency-Key is IdempotencyKeyReused. The booker's lock
 * is per (fan, event), so a fan's two requests for two events with the same key both get past the replay check and
 * meet only at the key's unique index (user, key): the one that commits second was another request under that key.
 */
export async function inBookingTransaction<T>(
  pool: Pool,
  seatIds: readonly string[],
  work: (tx: PoolClient) => Promise<T>,
): Promise<T> {
  try {
    return await withTransaction(pool, work);
  } catch (error) {
    if (isUniqueViolation(error, 'reservations_admission_once')) throw new AdmissionSpent();
    if (isUniqueViolation(error, 'reservations_idempotency_key')) throw new IdempotencyKeyReused();
    if (CONTENTION.has((error as { code?: string }).code ?? '')) throw new SeatUnavailable([...seatIds]);
    throw error;
  }
}

/**
 * One booker at a time per (user, event): whoever waits here sees what the one before committed, so neither the
 * per-user seat limit nor an Idempotency-Key can be raced by one user's parallel requests.
 */
export async function lockBooker(tx: Queryable, userId: string, eventId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${userId}/${eventId}`]);
}

export async function insertReservation(
  tx: Queryable,
  r: {
    id: string;
    eventId: string;
    userId: string;
    amount: number;
    currency: string;
    holdSeconds: number;
    settleWindowSeconds: number;
    idempotencyKey?: string;
    admissionId?: string;
  },
  seatIds: readonly string[],
): Promise<Reservation> {
  // The hold ends by the database clock, the same clock the expiry sweep reads. The seats it asked for go in with
  // it, in the same statement.
  const { rows } = await tx.query<Row>(
    `WITH r AS (
       INSERT INTO reservations (id, event_id, user_id, status, amount, currency, expires_at, settle_by, idempotency_key, admission_id, trace_context)
       VALUES ($1, $2, $3, 'PENDING', $4, $5, now() + make_interval(secs => $6), now() + make_interval(secs => $6 + $10),
               $7, $8, $9) RETURNING *),
     s AS (INSERT INTO reservation_seats (reservation_id, seat_id) SELECT $1, unnest($11::uuid[]))
     SELECT * FROM r`,
    [
      r.id,
      r.eventId,
      r.userId,
      r.amount,
      r.currency,
      r.holdSeconds,
      r.idempotencyKey ?? null,
      r.admissionId ?? null,
      JSON.stringify(injectTraceContext()),
      r.settleWindowSeconds,
      seatIds,
    ],
  );
  return toReservation(rows[0]!);
}

export async function findReservation(db: Queryable, id: string): Promise<Reservation | undefined> {
  const { rows } = await db.query<Row>('SELECT * FROM reservations WHERE id = $1', [id]);
  return rows[0] === undefined ? undefined : toReservation(rows[0]);
}

export async function lockReservation(tx: Queryable, id: string): Promise<Reservation | undefined> {
  const { rows } = await tx.query<Row>('SELECT * FROM reservations WHERE id = $1 FOR UPDATE', [id]);
  return rows[0] === undefined ? undefined : toReservation(rows[0]);
}

export async function findByIdempotencyKey(
  db: Queryable,
  userId: string,
  key: string,
): Promise<Reservation | undefined> {
  const { rows } = await db.query<Row>(
    'SELECT * FROM reservations WHERE user_id = $1 AND idempotency_key = $2',
    [userId, key],
  );
  return rows[0] === undefined ? undefined : toReservation(rows[0]);
}

export async function reservationsOfUser(
  db: Queryable,
  userId: string,
  limit: number,
): Promise<Reservation[]> {
  const { rows } = await db.query<Row>(
    'SELECT * FROM reservations WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2',
    [userId, limit],
  );
  return rows.map(toReservation);
}

/**
 * A transition's writes in one statement: the reservation's seats sold (only those still HELD) or released, and
 * its new status. Returns the seats the reservation asked for, and how many were moved.
 */
export async function writeTransition(
  tx: Queryable,
  id: string,
  seats: 'sell' | 'release',
  to: ReservationStatus,
  fields: { reason?: string; paymentId?: string; paymentFailure?: string; capturedAt?: Date },
): Promise<{ seatIds: string[]; moved: number }> {
  const move =
    seats === 'sell'
      ? `UPDATE seats SET status = 'SOLD', changed_seq = nextval('seat_change_seq')
         WHERE reservation_id = $1 AND status = 'HELD' RETURNING id`
      : `UPDATE seats SET status = 'AVAILABLE', reservation_id = NULL, changed_seq = nextval('seat_change_seq')
         WHERE reservation_id = $1 RETURNING id`;
  const { rows } = await tx.query<{ seat_ids: string[] | null; moved: number }>(
    `WITH moved AS (${move}),
     status AS (
       UPDATE reservations SET status = $2, updated_at = now(),
         reason = COALESCE($3, reason), payment_id = COALESCE($4, payment_id), payment_failure = COALESCE($5, payment_failure),
         captured_at = COALESCE($6, captured_at),
         confirmed_at = CASE WHEN $2 = 'CONFIRMED' THEN now() ELSE confirmed_at END,
         ended_at = CASE WHEN $2 IN ('CANCELLED', 'EXPIRED') THEN now() ELSE ended_at END
       WHERE id = $1)
     SELECT (SELECT array_agg(seat_id) FROM reservation_seats WHERE reservation_id = $1) AS seat_ids,
            (SELECT count(*) FROM moved) AS moved`,
    [
      id,
      to,
      fields.reason ?? null,
      fields.paymentId ?? null,
      fields.paymentFailure ?? null,
      fields.capturedAt ?? null,
    ],
  );
  return { seatIds: rows[0]?.seat_ids ?? [], moved: Number(rows[0]?.moved ?? 0) };
}

export async function markRefunded(tx: Queryable, id: string): Promise<void> {
  await tx.query(
    'UPDATE reservations SET refunded_at = COALESCE(refunded_at, now()), updated_at = now() WHERE id = $1',
    [id],
  );
}

/**
 * Locks PENDING reservations whose hold has ended (docs/saga.md, the hold rule): settle window included, and
 * extended by how far behind the saga's results are (`behindMs`), at most `maxExtensionSeconds`. SKIP LOCKED lets
 * several sweepers and the saga run together.
 */
/**
 * PENDING holds that may end now: settle-by at or before `through` (the saga's results are consumed that far), or
 * `maxExtensionSeconds` ago whatever was consumed. `through` undefined: nothing is known, only the bound ends holds.
 */
export async function lockExpiredHolds(
  tx: Queryable,
  limit: number,
  through: Date | undefined,
  maxExtensionSeconds: number,
): Promise<Reservation[]> {
  const { rows } = await tx.query<Row>(
    `SELECT * FROM reservations
     WHERE status = 'PENDING'
       AND settle_by <= GREATEST($2::timestamptz, now() - make_interval(secs => $3::float8))
     ORDER BY settle_by LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit, through ?? null, maxExtensionSeconds],
  );
  return rows.map(toReservation);
}
