import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '@reservex/kit/testing';
import pg from 'pg';
import { ChangeCapture, databaseAway } from '../src/wal/change-capture.ts';
import { PgOutputDecoder } from '../src/wal/pgoutput.ts';

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

  it('keeps a transaction once when PostgreSQL decodes it again (after a crash, a slot read by SQL is back at its last checkpoint)', async () => {
    await pool.query('CREATE PUBLICATION replay_check FOR TABLE things');
    await pool.query("SELECT pg_create_logical_replication_slot('replay_check', 'pgoutput')");
    try {
      await pool.query("INSERT INTO things VALUES ('c', 'PENDING', 'x')");
      await pool.query("UPDATE things SET status = 'CONFIRMED' WHERE id = 'c'");
      // Peeking does not move the slot: the same messages twice, as a crash would hand them over again.
      const peek = async () =>
        (
          await pool.query<{ data: Buffer }>(
            "SELECT data FROM pg_logical_slot_peek_binary_changes('replay_check', NULL, NULL, 'proto_version', '1', 'publication_names', 'replay_check')",
          )
        ).rows;
      const decoder = new PgOutputDecoder();
      const decode = (rows: Array<{ data: Buffer }>) =>
        rows.flatMap((r) => decoder.decode(r.data) ?? []).map((c) => [c.kind, c.row.id, c.row.status]);
      assert.deepEqual(decode(await peek()), [
        ['insert', 'c', 'PENDING'],
        ['update', 'c', 'CONFIRMED'],
      ]);
      assert.deepEqual(decode(await peek()), []);
      assert.equal(decoder.replayedTransactions, 2);
      // What comes after is kept.
      await pool.query("UPDATE things SET status = 'CANCELLED' WHERE id = 'c'");
      assert.deepEqual(decode(await peek()), [['update', 'c', 'CANCELLED']]);
    } finally {
      await pool.query("SELECT pg_drop_replication_slot('replay_check')");
      await pool.query('DROP PUBLICATION replay_check');
    }
  });

  it('reads again after a database that was away (killed, starting up, recovering), and keeps any other error to fail the run with', () => {
    for (const away of [
      'the database system is starting up',
      'the database system is in recovery mode',
      'the database system is not yet accepting connections',
      'the database system is shutting down',
      'Connection terminated unexpectedly',
      'connect ECONNREFUSED 127.0.0.1:5432',
      'read ECONNRESET',
    ])
      assert.equal(databaseAway(away), true, away);
    for (const fault of [
      'replication slot "reservex_check_1" does not exist',
      'permission denied for table seats',
    ])
      assert.equal(databaseAway(fault), false, fault);
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
