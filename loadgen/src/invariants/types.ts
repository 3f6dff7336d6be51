import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Refusal } from '../fans/misbehaviour-kinds.ts';
import type { AcknowledgedBooking } from '../run/recorder.ts';
import type { ChangeLog } from '../wal/change-capture.ts';
import type { TimelinessRules } from './ended-in-time.ts';

export interface CheckContext {
  ticket: pg.Pool;
  payment: pg.Pool;
  account: pg.Pool;
  /** The payment provider's own books: the one record of money moved. Absent in reports from before it existed. */
  provider: pg.Pool | undefined;
  eventId: string;
  /** Saga messages read straight off Kafka for this event's reservations, by topic. */
  wire: WireMessages | undefined;
  /** ticket-service's Redis and key prefix, where the waiting room keeps tickets and its admission log. */
  redis: Redis | undefined;
  redisPrefix: string;
  /** Requests the run saw refused, which must have left nothing behind. */
  refusals: readonly Refusal[] | undefined;
  /** The bookings the run's fans were answered for, and what they were shown of them; absent on a re-check. */
  acknowledged: readonly AcknowledgedBooking[] | undefined;
  /** What the databases wrote during the run, from their WAL (the run's change capture); absent on a re-check. */
  changes: ChangeLog | undefined;
  /** Why there is no change log, for the checks that need one. */
  changesUnavailable: string | undefined;
  /** The services' rules the timeliness checks judge against. */
  rules: TimelinessRules | undefined;
  /** When the provider or payment-service was away: a payment in doubt may wait that out. */
  paymentOutages: ReadonlyArray<{ from: string; to: string }> | undefined;
}

export interface WireMessages {
  byTopic: Map<string, Array<{ reservationId: string; id: string; data: Record<string, unknown> }>>;
  /** Every message id seen on the saga topics for the event's reservations. */
  ids: Set<string>;
}

export type Verdict = 'PASS' | 'FAIL' | 'SKIP';

export interface CheckResult {
  /** The invariant's stable name (`no-oversell`): what reports and tests cite. */
  name: string;
  title: string;
  verdict: Verdict;
  detail: string;
  /** Up to ten offending rows, for the report. */
  examples: unknown[];
}

export interface InvariantCheck {
  name: string;
  title: string;
  run(ctx: CheckContext): Promise<Omit<CheckResult, 'name' | 'title'>>;
}

export function verdict(violations: unknown[], passDetail: string, failDetail: (n: number) => string) {
  return violations.length === 0
    ? { verdict: 'PASS' as const, detail: passDetail, examples: [] }
    : { verdict: 'FAIL' as const, detail: failDetail(violations.length), examples: violations.slice(0, 10) };
}
