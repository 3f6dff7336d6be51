import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, createPool, type Pool, runMigrations } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.ts';

describe('SQL migrations', () => {
  let db: TestDatabase;
  let pool: Pool;
  const logger = createLogger('test', 'silent');
  beforeEach(async () => {
    db = await createTestDatabase('migrations');
    pool = createPool(db.url, 5, logger);
  });
  afterEach(async () => {
    await pool.end();
    await db.drop();
  });

  function migrationsDir(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
    return dir;
  }

  it('apply in version order, once, however often they run and however many instances start together', async () => {
    const dir = migrationsDir({
      '002_add_column.sql': 'ALTER TABLE things ADD COLUMN label text;',
      '001_create.sql': 'CREATE TABLE things (id int PRIMARY KEY);',
      'README.txt': 'not a migration',
    });
    const applied = await Promise.all([runMigrations(pool, dir, logger), runMigrations(pool, dir, logger)]);
    assert.deepEqual(applied.sort(), [0, 2]);
    assert.equal(await runMigrations(pool, dir, logger), 0);
    const { rows } = await pool.query('SELECT version FROM schema_migrations ORDER BY version');
    assert.deepEqual(
      rows.map((r) => r.version),
      [1, 2],
    );
  });

  it('roll back a failing migration whole and name it', async () => {
    const dir = migrationsDir({
      '001_broken.sql': 'CREATE TABLE ok_table (id int); SELECT no_such_column FROM ok_table;',
    });
    await assert.rejects(runMigrations(pool, dir, logger), /001_broken\.sql failed/);
    const { rowCount } = await pool.query("SELECT 1 FROM pg_tables WHERE tablename = 'ok_table'");
    assert.equal(rowCount, 0);
  });

  it('refuse to go on when an applied migration was edited', async () => {
    const dir = migrationsDir({ '001_create.sql': 'CREATE TABLE things (id int);' });
    await runMigrations(pool, dir, logger);
    writeFileSync(join(dir, '001_create.sql'), 'CREATE TABLE things (id bigint);');
    await assert.rejects(runMigrations(pool, dir, logger), /was changed after it was applied/);
  });
});
