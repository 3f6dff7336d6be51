import { randomBytes } from 'node:crypto';
import { harnessPool } from '@reservex/stack';
import type pg from 'pg';
import { PgOutputDecoder, type RowChange } from './pgoutput.ts';

/** A database whose changes the run keeps, and which of its tables. */
export interface CaptureTarget {
  name: string;
  url: string;
  tables: readonly string[];
}

/** Every row change of the captured tables during the run, per database, in commit order. */
export type ChangeLog = ReadonlyMap<string, readonly RowChange[]>;

const PREFIX = 'reservex_check_';
/** A slot left by a run that died is dropped by the next run after this long: it would keep WAL for ever. */
const STALE_AFTER_SECONDS = 6 * 3600;

/**
 * The run's own change-data capture: a logical replication slot (pgoutput) and a publication of the tables the
 * checker reads, created by the harness when the run starts and dropped when it ends, so a production database
 * carries neither. Read every second through pg_logical_slot_get_binary_changes, which consumes what it returns,
 * so the slot holds back no more WAL than a second's worth. Needs wal_level=logical and a role with REPLICATION
 * (the infrastructure scripts set both).
 */
interface Source {
  target: CaptureTarget;
  /** The slot's and the publication's name: slots are the whole server's, so one per database. */
  name: string;
  pool: pg.Pool;
  decoder: PgOutputDecoder;
  changes: RowChange[];
}

export class ChangeCapture {
  readonly #sources: Source[];
  #timer: NodeJS.Timeout | undefined;
  #reading: Promise<void> = Promise.resolve();
  #error: Error | undefined;
  #closed = false;

  private constructor(run: string, targets: readonly CaptureTarget[]) {
    this.#sources = targets.map((target) => ({
      target,
      name: `${run}_${target.name.replace(/\W/g, '_')}`,
      pool: harnessPool(target.url, 1),
      decoder: new PgOutputDecoder(),
      changes: [],
    }));
  }

  /** Creates the slots and publications, and starts reading. Throws, naming the cause, when it cannot. */
  static async start(targets: readonly CaptureTarget[], pollMs = 1000): Promise<ChangeCapture> {
    const name = `${PREFIX}${Math.floor(Date.now() / 1000)}_${randomBytes(3).toString('hex')}`;
    const capture = new ChangeCapture(name, targets);
    try {
      for (const { pool, target, name: slot } of capture.#sources) {
        await dropStale(pool);
        await pool.query(
          `CREATE PUBLICATION ${slot} FOR TABLE ${target.tables.map((t) => `public.${t}`).join(', ')}`,
        );
        await pool.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [slot]);
      }
    } catch (error) {
      await capture.close();
      throw new Error(
        `the run cannot read the databases' change log (logical decoding needs wal_level=logical and a role with REPLICATION; npm run infra:up sets both): ${(error as Error).message}`,
      );
    }
    capture.#timer = setInterval(() => {
      capture.#reading = capture.#reading.then(() => capture.#readAll());
    }, pollMs);
    return capture;
  }

  /** Reads what the slots hold now, and hands over the log so far; the capture goes on. */
  async read(): Promise<ChangeLog> {
    this.#reading = this.#reading.then(() => this.#readAll());
    await this.#reading;
    if (this.#error !== undefined) throw this.#error;
    return new Map(this.#sources.map((s) => [s.target.name, [...s.changes]]));
  }

  /** Reads what is left, drops the slots and publications, and hands over the log. */
  async stop(): Promise<ChangeLog> {
    clearInterval(this.#timer);
    await this.#reading;
    await this.#readAll();
    await this.close();
    if (this.#error !== undefined) throw this.#error;
    return new Map(this.#sources.map((s) => [s.target.name, s.changes]));
  }

  /** Drops the slots and publications without reading on: a run that failed must not leave WAL held for it. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#closed) return;
    this.#closed = true;
    await this.#reading;
    await this.#drop();
  }

  async #readAll(): Promise<void> {
    for (const source of this.#sources) {
      try {
        for (;;) {
          const { rows } = await source.pool.query<{ data: Buffer }>(
            `SELECT data FROM pg_logical_slot_get_binary_changes($1, NULL, 20000,
               'proto_version', '1', 'publication_names', $2)`,
            [source.name, source.name],
          );
          for (const { data } of rows) {
            const change = source.decoder.decode(data);
            if (change !== undefined) source.changes.push(change);
          }
          if (rows.length < 20000) break;
        }
      } catch (error) {
        const message = (error as Error).message;
        // A database that is down for a moment (a crash scenario) is read again at the next tick: the slot keeps
        // what was not read. A slot that is gone went with a primary that was lost: PostgreSQL 15 does not carry
        // a logical slot over to the standby it promotes. The log goes on from a new slot on the new primary, and
        // says which window it could not see. Anything else is kept to fail the run with.
        if (slotLost(message)) await this.#resume(source).catch(() => {});
        else if (!databaseAway(message)) this.#error ??= error as Error;
      }
    }
  }

  /** A new slot of the same name on the server that answers now; its publication came over with the data. */
  async #resume(source: Source): Promise<void> {
    await source.pool.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [source.name]);
    const last = source.changes.findLast((c) => c.kind !== 'gap')?.committedAt;
    source.changes.push({
      table: '',
      kind: 'gap',
      row: {},
      xid: 0,
      committedAt: new Date(),
      ...(last === undefined ? {} : { gapFrom: last }),
    });
  }

  async #drop(): Promise<void> {
    for (const { pool, name } of this.#sources) {
      await pool
        .query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [
          name,
        ])
        .catch(() => {});
      await pool.query(`DROP PUBLICATION IF EXISTS ${name}`).catch(() => {});
      await pool.end().catch(() => {});
    }
  }
}

/**
 * A read that failed because the database is away for a moment (killed, restarting, recovering from a crash), not
 * because of anything the capture did: PostgreSQL's own words for it, and the socket's.
 */
export function slotLost(message: string): boolean {
  return /replication slot ".*" does not exist/i.test(message);
}

export function databaseAway(message: string): boolean {
  return /connect|terminat|ECONNREFUSED|ECONNRESET|shutting down|starting up|recovery mode|not yet accepting|timeout/i.test(
    message,
  );
}

/** Slots and publications of runs that died hours ago, in this database. */
async function dropStale(pool: pg.Pool): Promise<void> {
  const cutoff = Math.floor(Date.now() / 1000) - STALE_AFTER_SECONDS;
  const { rows } = await pool.query<{ slot_name: string }>(
    'SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE $1 AND database = current_database() AND NOT active',
    [`${PREFIX}%`],
  );
  for (const { slot_name: slot } of rows) {
    const created = Number(slot.slice(PREFIX.length).split('_')[0]);
    if (!(created < cutoff)) continue;
    await pool.query('SELECT pg_drop_replication_slot($1)', [slot]);
    await pool.query(`DROP PUBLICATION IF EXISTS ${slot}`);
  }
}

/** The tables the checker reads from each service's change log. */
export const CAPTURED_TABLES = {
  // Only the seat columns the history replays: a seat map's other columns would travel for nothing.
  ticket: [
    'reservations',
    'seats (id, event_id, status, reservation_id)',
    'reservation_seats',
    'processed_messages',
    'outbox',
  ],
  payment: ['payments', 'processed_messages', 'outbox'],
} as const;
