import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '@reservex/kit/testing';
import pg from 'pg';
import { ChangeCapture } from '../src/wal/change-capture.ts';

describe('the run’s change capture (logical decoding, pgoutput, real PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  before(async () => {
    db = await createTestDatabase('wal_capture');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await pool.query('CREATE TABLE things (id text PRIMARY KEY, status text, note text)');
    await pool.query('CREATE TABLE ignored (id text PRIMARY KEY)');
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('keeps every insert, update and delete of its tables in commit order, each with its transaction and commit time, and leaves no slot behind', async () => {
    const capture = await ChangeCapture.start([{ name: 'db', url: db.url, tables: ['things'] }], 100);
    const before = Date.now();
    await pool.query("INSERT INTO things VALUES ('a', 'PENDING', 'it''s quoted, and ünïcode')");
    await pool.query("INSERT INTO ignored VALUES ('x')");
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("UPDATE things SET status = 'CONFIRMED' WHERE id = 'a'");
      await client.query("INSERT INTO things VALUES ('b', NULL, 'n')");
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await pool.query("DELETE FROM things WHERE id = 'b'");
    const log = (await capture.stop()).get('db') ?? [];
    assert.deepEqual(
      log.map((c) => [c.kind, c.row.id, c.row.status]),
      [
        ['insert', 'a', 'PENDING'],
        ['update', 'a', 'CONFIRMED'],
        ['insert', 'b', null],
        // A delete carries the key only (replica identity default): the other columns come as null.
        ['delete', 'b', null],
      ],
    );
    assert.equal(log[0]?.row.note, "it's quoted, and ünïcode");
    assert.equal(log[1]?.xid, log[2]?.xid, 'one transaction, one xid');
    assert.notEqual(log[0]?.xid, log[1]?.xid);
    for (const c of log)
      assert.ok(c.committedAt.getTime() >= before - 2000 && c.committedAt.getTime() <= Date.now());
    const slots = await pool.query(
      "SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name LIKE 'reservex_check_%' AND database = current_database()",
    );
    assert.equal(slots.rows[0].n, 0, 'the slot is dropped with the run');
    const publications = await pool.query(
      "SELECT count(*)::int AS n FROM pg_publication WHERE pubname LIKE 'reservex_check_%'",
    );
    assert.equal(publications.rows[0].n, 0);
  });

  it('says why it cannot start on a table that does not exist, and leaves nothing behind', async () => {
    await assert.rejects(
      ChangeCapture.start([{ name: 'db', url: db.url, tables: ['no_such_table'] }]),
      /cannot read the databases' change log.*no_such_table/s,
    );
    const slots = await pool.query(
      "SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name LIKE 'reservex_check_%' AND database = current_database()",
    );
    assert.equal(slots.rows[0].n, 0);
  });
});
