import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger, KIT_MIGRATIONS_DIR, runMigrations } from '@reservex/kit';
import type { Targets } from '@reservex/stack';
import pg from 'pg';
import { withDatabase } from './bench-stack.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SEATS = 200_000;

/**
 * One booking's statements, database by database, as the services send them on the way to CONFIRMED: the same
 * statements against the same schema (the services' own migrations), with one
 * transaction per saga step. What the application does between them (HTTP, Kafka, the gateway) is left out.
 * Batching is too: the consumers and the relay share a commit among many messages at saturation, so this is
 * PostgreSQL's rate for the booking's writes done one step at a time.
 */
const SCRIPTS: Record<'ticket' | 'payment' | 'provider', string> = {
  ticket: `
\\set fan random(1, 1000)
SELECT md5(nextval('bench_seat')::text)::uuid AS seat, gen_random_uuid() AS rid, gen_random_uuid() AS created, gen_random_uuid() AS confirmed, gen_random_uuid() AS completed \\gset
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('fan' || :fan || '/bench'));
SELECT e.*, (SELECT count(*) FROM reservation_seats rs JOIN reservations r ON r.id = rs.reservation_id
             WHERE r.user_id = 'fan' || :fan AND r.event_id = e.id AND r.status IN ('PENDING', 'CONFIRMED')) AS fan_seats
  FROM events e WHERE e.id = '00000000-0000-0000-0000-00000000be0c';
WITH wanted AS (
  SELECT id FROM seats WHERE event_id = '00000000-0000-0000-0000-00000000be0c' AND id = ANY(ARRAY[:seat::uuid]) AND status = 'AVAILABLE'
  ORDER BY id FOR UPDATE)
UPDATE seats s SET status = 'HELD', reservation_id = :rid, changed_seq = nextval('seat_change_seq')
  FROM wanted WHERE s.id = wanted.id RETURNING s.id, s.section, s.row_label, s.number, s.price;
WITH r AS (
  INSERT INTO reservations (id, event_id, user_id, status, amount, currency, expires_at, settle_by, idempotency_key, admission_id, trace_context)
  VALUES (:rid, '00000000-0000-0000-0000-00000000be0c', 'fan' || :fan, 'PENDING', 100000, 'KRW', now() + make_interval(secs => 600),
          now() + make_interval(secs => 630), NULL, NULL, '{}') RETURNING *),
s AS (INSERT INTO reservation_seats (reservation_id, seat_id) SELECT :rid, unnest(ARRAY[:seat::uuid]))
SELECT * FROM r;
INSERT INTO outbox (message_id, topic, key, payload, headers)
  VALUES (:created, 'saga.reservation.created', :rid, '{"id":"x","type":"saga.reservation.created","key":"k","occurredAt":"2026-11-30T00:00:00.000Z","data":{"reservationId":"00000000-0000-0000-0000-000000000000","eventId":"00000000-0000-0000-0000-00000000be0c","userId":"fan","seatIds":["00000000-0000-0000-0000-000000000000"],"amount":100000,"currency":"KRW","expiresAt":"2026-11-30T00:10:00.000Z","settleBy":"2026-11-30T00:10:30.000Z"}}', '{"traceparent":"00-00000000000000000000000000000000-0000000000000000-00"}');
COMMIT;
UPDATE outbox SET published_at = now() WHERE message_id = :created;
BEGIN;
INSERT INTO processed_messages (message_id, topic) VALUES (:completed, 'saga.payment.completed') ON CONFLICT DO NOTHING;
SELECT * FROM reservations WHERE id = :rid FOR UPDATE;
WITH moved AS (UPDATE seats SET status = 'SOLD', changed_seq = nextval('seat_change_seq') WHERE reservation_id = :rid AND status = 'HELD' RETURNING id),
status AS (UPDATE reservations SET status = 'CONFIRMED', updated_at = now(), confirmed_at = now() WHERE id = :rid)
SELECT (SELECT array_agg(seat_id) FROM reservation_seats WHERE reservation_id = :rid) AS seat_ids, (SELECT count(*) FROM moved) AS moved;
INSERT INTO outbox (message_id, topic, key, payload, headers)
  VALUES (:confirmed, 'saga.reservation.confirmed', :rid, '{"id":"x","type":"saga.reservation.confirmed","key":"k","occurredAt":"2026-11-30T00:00:00.000Z","data":{"reservationId":"00000000-0000-0000-0000-000000000000","eventId":"00000000-0000-0000-0000-00000000be0c","userId":"fan","seatIds":["00000000-0000-0000-0000-000000000000"],"amount":100000}}', '{}');
COMMIT;
UPDATE outbox SET published_at = now() WHERE message_id = :confirmed;
`,
  payment: `
SELECT gen_random_uuid() AS rid, gen_random_uuid() AS pid, gen_random_uuid() AS created, gen_random_uuid() AS completed \\gset
BEGIN;
INSERT INTO processed_messages (message_id, topic) VALUES (:created, 'saga.reservation.created') ON CONFLICT DO NOTHING;
SELECT 1 FROM cancelled_reservations WHERE reservation_id = :rid;
INSERT INTO payments (id, reservation_id, user_id, event_id, amount, currency, hold_expires_at, settle_by, status, trace_context)
  VALUES (:pid, :rid, 'fan', '00000000-0000-0000-0000-00000000be0c', 100000, 'KRW', now() + interval '10 min', now() + interval '630 s', 'PROCESSING', '{}')
  ON CONFLICT (reservation_id) DO NOTHING;
COMMIT;
UPDATE payments SET lease_until = now() + make_interval(secs => 6), attempts = attempts + 1 WHERE id = :pid;
BEGIN;
SELECT *, EXISTS (SELECT 1 FROM cancelled_reservations c WHERE c.reservation_id = payments.reservation_id) AS cancelled
  FROM payments WHERE id = :pid FOR UPDATE OF payments;
UPDATE payments SET status = 'CAPTURED', lease_until = NULL, captured_at = now() WHERE id = :pid;
INSERT INTO outbox (message_id, topic, key, payload, headers)
  VALUES (:completed, 'saga.payment.completed', :rid, '{"id":"x","type":"saga.payment.completed","key":"k","occurredAt":"2026-11-30T00:00:00.000Z","data":{"reservationId":"00000000-0000-0000-0000-000000000000","paymentId":"00000000-0000-0000-0000-000000000000","amount":100000,"currency":"KRW"}}', '{}');
COMMIT;
UPDATE outbox SET published_at = now() WHERE message_id = :completed;
`,
  provider: `
SELECT gen_random_uuid()::text AS k \\gset
INSERT INTO charges (idempotency_key, amount, currency, status) VALUES (:k, 100000, 'KRW', 'pending') ON CONFLICT (idempotency_key) DO NOTHING;
WITH captured AS (
  UPDATE charges SET status = 'captured', decided_at = now() WHERE idempotency_key = :k AND status = 'pending' RETURNING amount)
INSERT INTO ledger_entries (kind, key, charge_key, amount) SELECT 'capture', :k, :k, amount FROM captured;
`,
};

const MIGRATIONS: Record<keyof typeof SCRIPTS, { dir: string; kit: boolean }> = {
  ticket: { dir: join(ROOT, 'system/ticket-service/migrations'), kit: true },
  payment: { dir: join(ROOT, 'system/payment-service/migrations'), kit: true },
  provider: { dir: join(ROOT, 'system/payment-provider/migrations'), kit: false },
};

/** An empty database `name` on the services' server, made again if a bench left one; its URL. */
async function emptyDatabase(targets: Targets, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: targets.ticketDb });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return withDatabase(targets.ticketDb, name);
}

/** A fresh copy of a service's schema, in a database of its own, so the bench never touches a service's data. */
async function scratchDatabase(targets: Targets, part: keyof typeof SCRIPTS): Promise<string> {
  const url = await emptyDatabase(targets, `bench_pgbench_${part}`);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const logger = createLogger('bench-pgbench', 'warn');
  try {
    const { dir, kit } = MIGRATIONS[part];
    if (kit) await runMigrations(pool, KIT_MIGRATIONS_DIR, logger, 'kit_schema_migrations');
    await runMigrations(pool, dir, logger);
    if (part === 'ticket') {
      await pool.query(
        `INSERT INTO events (id, name, venue, starts_at, sales_open_at, hold_seconds, max_seats_per_user)
         VALUES ('00000000-0000-0000-0000-00000000be0c', 'pgbench', 'pgbench', now() + interval '1 day', now(), 600, 20)`,
      );
      await pool.query(
        `INSERT INTO seats (id, event_id, section, row_label, number, price)
         SELECT md5(i::text)::uuid, '00000000-0000-0000-0000-00000000be0c', 'S' || (i / 10000), (i / 100 % 100)::text, i % 100, 100000
         FROM generate_series(1, $1) AS i`,
        [SEATS],
      );
      await pool.query('CREATE SEQUENCE bench_seat');
      await pool.query('VACUUM ANALYZE');
    }
  } finally {
    await pool.end();
  }
  return url;
}

/** pgbench's transactions per second: a script of ours, or one of its built-in ones (`-N`). */
function pgbench(
  url: string,
  workload: { script: string } | { builtin: string },
  clients: number,
  seconds: number,
): number {
  let source: string[];
  if ('script' in workload) {
    const file = join(mkdtempSync(join(tmpdir(), 'reservex-pgbench-')), 'booking.sql');
    writeFileSync(file, workload.script);
    source = ['-f', file];
  } else source = [workload.builtin];
  const out = run(url, [
    '-n',
    // Bind parameters, prepared once per connection, as the services send their statements.
    '-M',
    'prepared',
    ...source,
    '-c',
    String(clients),
    '-j',
    '2',
    '-T',
    String(seconds),
  ]);
  const tps = /tps = ([\d.]+)/.exec(out)?.[1];
  if (tps === undefined) throw new Error(`pgbench printed no rate: ${out.slice(-500)}`);
  return Number(tps);
}

/** pgbench against the database `url` names, as the URL's user; its output, or an error naming the cause. */
function run(url: string, args: string[]): string {
  const u = new URL(url);
  const out = spawnSync(
    'pgbench',
    [
      ...args,
      '-h',
      u.hostname,
      '-p',
      u.port || '5432',
      '-U',
      decodeURIComponent(u.username),
      u.pathname.slice(1),
    ],
    { encoding: 'utf8', env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) } },
  );
  if (out.error !== undefined || out.status !== 0)
    throw new Error(
      `pgbench failed (${out.error?.message ?? out.stderr.slice(0, 500)}); it ships with postgresql-client`,
    );
  return out.stdout;
}

export interface BookingPgbench {
  clients: number;
  seconds: number;
  /** Bookings' worth of each database's statements per second, each database run alone. */
  perDatabase: Record<keyof typeof SCRIPTS, number>;
  /**
   * The three parts share one server and its two cores, one after the other for each booking: the machine time of
   * a booking is the sum of the parts' times.
   */
  bookingsPerSecond: number;
}

/** pgbench of one booking's own statements, on the services' PostgreSQL, in scratch copies of their schemas. */
export async function bookingPgbench(
  targets: Targets,
  seconds: number,
  clients = 16,
): Promise<BookingPgbench> {
  const perDatabase = { ticket: 0, payment: 0, provider: 0 };
  for (const part of Object.keys(SCRIPTS) as Array<keyof typeof SCRIPTS>) {
    const url = await scratchDatabase(targets, part);
    perDatabase[part] = pgbench(url, { script: SCRIPTS[part] }, clients, seconds);
  }
  const bookingsPerSecond = 1 / Object.values(perDatabase).reduce((sum, rate) => sum + 1 / rate, 0);
  return { clients, seconds, perDatabase, bookingsPerSecond };
}

/** pgbench's own scale for the -N run: 10 branches, a million accounts, small enough to set up in seconds. */
const TPCB_SCALE = 10;

/**
 * pgbench -N (TPC-B-like without the branch and teller updates: three updates, a select and an insert per
 * transaction) with durable commits, on the same server in the same run: the yardstick issue 33 states the saga's
 * rate against, so the ratio travels between machines where a bookings/s figure does not.
 */
export async function pgbenchN(
  targets: Targets,
  seconds: number,
  clients = 16,
): Promise<{ clients: number; seconds: number; scale: number; tps: number }> {
  const url = await emptyDatabase(targets, 'bench_pgbench_tpcb');
  run(url, ['-i', '-q', '-s', String(TPCB_SCALE)]);
  return { clients, seconds, scale: TPCB_SCALE, tps: pgbench(url, { builtin: '-N' }, clients, seconds) };
}
