import { createPool, type Pool } from '../db.ts';
import { createLogger } from '../logger.ts';
import { KIT_MIGRATIONS_DIR, runMigrations } from '../migrations.ts';
import { createTestDatabase } from './test-infra.ts';

export interface MigratedTestDatabase {
  url: string;
  /** A pool as a service's saga machinery has one (the kit's prepared statements included). */
  pool: Pool;
  drop(): Promise<void>;
}

/**
 * A fresh database with the kit's migrations and a service's own (`migrationsDir`), as the service would leave it
 * at start-up, and a pool on it: for tests that step a service's parts by hand, with nothing running.
 */
export async function migratedTestDatabase(
  label: string,
  migrationsDir: string,
  poolMax = 10,
): Promise<MigratedTestDatabase> {
  const logger = createLogger(label, 'silent');
  const db = await createTestDatabase(label);
  const pool = createPool(db.url, poolMax, logger);
  await runMigrations(pool, KIT_MIGRATIONS_DIR, logger, 'kit_schema_migrations');
  await runMigrations(pool, migrationsDir, logger);
  return {
    url: db.url,
    pool,
    async drop() {
      await pool.end();
      await db.drop();
    },
  };
}
