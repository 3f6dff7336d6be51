import type { Queryable } from '@reservex/kit';
import type { AdmissionControlMode } from './queue-store.ts';

/** An event's waiting-room settings, as PostgreSQL holds them: the source the Redis queue is rebuilt from. */
export interface QueueSettingsRow {
  hasQueue: boolean;
  opensAt: Date | null;
  salesOpenAt: Date;
  admitPerSecond: number | null;
  maxActive: number | null;
  paused: boolean;
  closed: boolean;
  admissionControl: AdmissionControlMode;
}

export async function queueSettingsOf(db: Queryable, eventId: string): Promise<QueueSettingsRow | undefined> {
  const { rows } = await db.query(
    `SELECT queue_opens_at, sales_open_at, admit_per_second, max_active, queue_paused, queue_closed,
            admission_control
     FROM events WHERE id = $1`,
    [eventId],
  );
  const r = rows[0];
  if (r === undefined) return undefined;
  return {
    hasQueue: r.queue_opens_at !== null,
    opensAt: r.queue_opens_at,
    salesOpenAt: r.sales_open_at,
    admitPerSecond: r.admit_per_second,
    maxActive: r.max_active,
    paused: r.queue_paused,
    closed: r.queue_closed,
    admissionControl: r.admission_control,
  };
}

export interface QueueChange {
  admitPerSecond?: number;
  maxActive?: number;
  paused?: boolean;
  drain?: boolean;
  admissionControl?: AdmissionControlMode;
}

export async function saveQueueChange(db: Queryable, eventId: string, change: QueueChange): Promise<void> {
  await db.query(
    `UPDATE events SET admit_per_second = COALESCE($2, admit_per_second), max_active = COALESCE($3, max_active),
       queue_paused = COALESCE($4, queue_paused), queue_closed = COALESCE($5, queue_closed),
       admission_control = COALESCE($6, admission_control) WHERE id = $1`,
    [
      eventId,
      change.admitPerSecond ?? null,
      change.maxActive ?? null,
      change.paused ?? null,
      change.drain ?? null,
      change.admissionControl ?? null,
    ],
  );
}

/** Every seat SOLD: none available, none merely held (a held seat may come back). */
export async function isSoldOut(db: Queryable, eventId: string): Promise<boolean> {
  const { rows } = await db.query(
    "SELECT NOT EXISTS (SELECT 1 FROM seats WHERE event_id = $1 AND status <> 'SOLD') AS sold_out",
    [eventId],
  );
  return rows[0]?.sold_out === true;
}

/** What the admission controller reads from PostgreSQL each period (docs/overload.md). */
export interface SagaBacklog {
  holdMs: number;
  pending: number;
  /** Reservations that ever left PENDING: a counter. */
  finished: number;
  oldestPendingMs: number;
}

export async function sagaBacklogOf(db: Queryable, eventId: string): Promise<SagaBacklog | undefined> {
  // Both counts come from the (event_id, status) index; only PENDING rows are read for their age.
  const { rows } = await db.query(
    `SELECT e.hold_seconds,
            (SELECT count(*) FROM reservations WHERE event_id = e.id)::int AS total,
            p.pending, p.oldest_ms
     FROM events e,
          LATERAL (SELECT count(*)::int AS pending,
                          COALESCE(extract(epoch FROM now() - min(created_at)) * 1000, 0)::float8 AS oldest_ms
                   FROM reservations WHERE event_id = e.id AND status = 'PENDING') p
     WHERE e.id = $1`,
    [eventId],
  );
  const r = rows[0];
  if (r === undefined) return undefined;
  return {
    holdMs: r.hold_seconds * 1000,
    pending: r.pending,
    finished: r.total - r.pending,
    oldestPendingMs: r.oldest_ms,
  };
}

/** The events whose queue opens soon or opened lately: the ones the admission ticker watches unprompted. */
export async function queuesAroundNow(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM events WHERE queue_opens_at BETWEEN now() - interval '10 minutes' AND now() + interval '1 hour'`,
  );
  return rows.map((r) => r.id);
}
