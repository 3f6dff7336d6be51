import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from './logger.ts';

const FILE_PATTERN = /^(\d{3,})_[\w-]+\.sql$/;
// Several instances of a service may start together: one applies, the others wait and then find nothing to do.
const MIGRATION_LOCK = 72_410_001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir: string): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => FILE_PATTERN.test(file))
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8');
      return {
        version: Number(FILE_PATTERN.exec(file)?.[1]),
        name: file,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    })
    .sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]?.version === migrations[i - 1]?.version) {
      throw new Error(`two migrations share version ${migrations[i]?.version} in ${dir}`);
    }
  }
  return migrations;
}

export const KIT_MIGRATIONS_DIR = join(import.meta.dirname, '..', 'migrations');

/**
 * Applies each pending numbered .sql file in its own transaction. An applied file that was edited is an error.
 * `table` keeps separate histories apart: the kit's own tables are tracked beside the service's.
 */
export async function runMigrations(
  pool: pg.Pool,
  dir: string,
  logger: Logger,
  table = 'schema_migrations',
): Promise<number> {
  const migrations = readMigrations(dir);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const history = pg.escapeIdentifier(table);
    await client.query(`CREATE TABLE IF NOT EXISTS ${history} (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = new Map<number, string>(
      (
        await client.query<{ version: number; checksum: string }>(`SELECT version, checksum FROM ${history}`)
      ).rows.map((r) => [r.version, r.checksum]),
    );
    let count = 0;
    for (const m of migrations) {
      const known = applied.get(m.version);
      if (known !== undefined) {
        if (known !== m.checksum) {
          throw new Error(
            `migration ${m.name} was changed after it was applied; add a new migration instead`,
          );
        }
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query(`INSERT INTO ${history} (version, name, checksum) VALUES ($1, $2, $3)`, [
          m.version,
          m.name,
          m.checksum,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.name} failed: ${(error as Error).message}`);
      }
      logger.info({ migration: m.name }, 'migration applied');
      count++;
    }
    return count;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}
