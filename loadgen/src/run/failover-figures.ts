import { harnessPool } from '@reservex/stack';
import type { FaultRecord } from '../chaos/fault-runner.ts';
import type { FailoverReport } from '../report/run-report.ts';
import type { Recorder } from './recorder.ts';

const seconds = (ms: number) => Math.round(ms / 100) / 10;

/**
 * RTO and RPO's sample for each lost primary, index for index with the fault records (undefined for other
 * faults): when writes came back through the router, when the first booking landed on the new primary (its
 * created_at, stamped by that server), and how many bookings fans had been answered for before the loss, each of
 * which acknowledged-kept then looks for.
 */
export async function failoverFigures(
  ticketDb: string,
  eventId: string,
  records: readonly FaultRecord[],
  recorder: Recorder,
): Promise<Array<FailoverReport | undefined>> {
  if (!records.some((r) => r.failover !== undefined)) return records.map(() => undefined);
  const ticket = harnessPool(ticketDb, 1);
  try {
    const out: Array<FailoverReport | undefined> = [];
    for (const r of records) {
      const f = r.failover;
      if (f === undefined) {
        out.push(undefined);
        continue;
      }
      let firstBookingSeconds: number | null = null;
      if ('target' in r.fault && r.fault.target === 'postgres') {
        const { rows } = await ticket.query(
          'SELECT min(created_at) AS first FROM reservations WHERE event_id = $1 AND created_at > $2',
          [eventId, new Date(f.at)],
        );
        const first = rows[0]?.first as Date | null;
        firstBookingSeconds = first === null ? null : seconds(first.getTime() - f.at);
      }
      const before = [...recorder.acknowledged.values()].filter((b) => b.at < f.at);
      out.push({
        lost: f.lost,
        promoted: f.promoted ?? null,
        writesBackSeconds: f.seconds ?? null,
        firstBookingSeconds,
        acknowledgedBefore: {
          bookings: before.length,
          confirmed: before.filter((b) => b.confirmedAt !== undefined && b.confirmedAt < f.at).length,
        },
      });
    }
    return out;
  } finally {
    await ticket.end();
  }
}
