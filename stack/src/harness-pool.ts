import pg from 'pg';

/**
 * A PostgreSQL pool for the harness. The load generator must outlive the faults it injects: when PostgreSQL is
 * killed, an idle connection's error is a gap in what the harness sees, never the end of the run.
 */
export function harnessPool(connectionString: string, max: number, timeouts = false): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    ...(timeouts ? { connectionTimeoutMillis: 800, query_timeout: 800 } : {}),
  });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}
