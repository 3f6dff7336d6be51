import pg from 'pg';

export interface StatementCount {
  database: string;
  query: string;
  calls: number;
  execMs: number;
}

export type StatementSnapshot = Map<string, StatementCount>;

/**
 * The server's statement counters (pg_stat_statements, preloaded by the infrastructure scripts), for the given
 * databases. Undefined when the extension is not there (a server started by other means).
 */
export async function statementSnapshot(
  connectionString: string,
  databases: readonly string[],
): Promise<StatementSnapshot | undefined> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const { rows } = await client.query<{
      datname: string;
      queryid: string;
      query: string;
      calls: string;
      ms: number;
    }>(
      `SELECT d.datname, s.queryid::text, s.query, s.calls::text, s.total_exec_time AS ms
         FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = ANY($1)`,
      [databases],
    );
    return new Map(
      rows.map((r) => [
        `${r.datname}/${r.queryid}`,
        { database: r.datname, query: r.query, calls: Number(r.calls), execMs: r.ms },
      ]),
    );
  } catch {
    return undefined;
  } finally {
    await client.end();
  }
}

/** The statements run between two snapshots, most called first. */
export function statementsBetween(before: StatementSnapshot, after: StatementSnapshot): StatementCount[] {
  const out: StatementCount[] = [];
  for (const [key, a] of after) {
    const b = before.get(key);
    const calls = a.calls - (b?.calls ?? 0);
    if (calls > 0) out.push({ ...a, calls, execMs: a.execMs - (b?.execMs ?? 0) });
  }
  return out.sort((x, y) => y.calls - x.calls);
}
