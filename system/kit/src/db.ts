import pg from 'pg';
import type { Logger } from './logger.ts';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Something that runs queries: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

// Counting rows and summing money in JavaScript numbers is fine at this scale; keep BIGINT COUNT(*) as a number.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

// Statements the code runs are a fixed set; past this many distinct texts something builds SQL on the fly, and
// those are left unnamed rather than prepared on every connection without end.
const MAX_PREPARED = 1000;
const statementNames = new Map<string, string>();

/**
 * A client that prepares every statement with parameters once per connection (a named statement), so PostgreSQL
 * parses and plans it once rather than on every call. bench:saga measured the booking's statements this way.
 */
class PreparingClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's query() is a heap of overloads; this forwards every one.
  override query(config: any, values?: any, callback?: any): any {
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0) {
      let name = statementNames.get(config);
      if (name === undefined && statementNames.size < MAX_PREPARED) {
        name = `rx${statementNames.size}`;
        statementNames.set(config, name);
      }
      if (name !== undefined) return super.query({ name, text: config, values }, callback);
    }
    return super.query(config, values, callback);
  }
}

export function createPool(connectionString: string, max: number, logger: Logger): pg.Pool {
  const pool = new pg.Pool({
    Client: PreparingClient,
    connectionString,
    max,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client that loses its connection emits here; without a listener the whole process would crash.
  pool.on('error', (error) => logger.error({ err: error }, 'idle PostgreSQL client failed'));
  // So does a checked-out client whose server goes away between queries (a restart, a failover): the query in
  // flight fails on its own, and the client is thrown away when it is released.
  pool.on('connect', (client) => {
    client.on('error', (error) => logger.warn({ err: error }, 'PostgreSQL connection lost'));
  });
  return pool;
}

export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}
