import type { Queryable } from '@reservex/kit';

/**
 * Reports how far behind this instance's consumer of the saga's results is, and returns how far behind the
 * furthest live instance is: the hold sweep waits that long (docs/saga.md, the hold rule). An instance that stopped
 * reporting for 5 s no longer counts; its row goes after an hour.
 */
export async function sagaBehindMs(db: Queryable, instance: string, behindMs: number): Promise<number> {
  const { rows } = await db.query<{ behind: number }>(
    `WITH me AS (
       INSERT INTO consumer_progress (instance, behind_ms, reported_at) VALUES ($1, $2, now())
       ON CONFLICT (instance) DO UPDATE SET behind_ms = EXCLUDED.behind_ms, reported_at = now()),
     gone AS (DELETE FROM consumer_progress WHERE reported_at < now() - interval '1 hour')
     SELECT GREATEST($2, COALESCE((SELECT max(behind_ms) FROM consumer_progress
                                   WHERE instance <> $1 AND reported_at > now() - interval '5 seconds'), 0))::int AS behind`,
    [instance, Math.max(0, Math.round(behindMs))],
  );
  return rows[0]?.behind ?? 0;
}
