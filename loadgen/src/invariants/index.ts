import { harnessPool } from '@reservex/stack';
import { Redis } from 'ioredis';
import type { Refusal } from '../fans/misbehaviour-kinds.ts';
import type { AcknowledgedBooking } from '../run/recorder.ts';
import type { ChangeLog } from '../wal/change-capture.ts';
import { acknowledgedKept } from './acknowledged-kept.ts';
import { confirmedIffCaptured } from './confirmed-iff-captured.ts';
import { endedInTime, type TimelinessRules } from './ended-in-time.ts';
import { everyMessageDelivered } from './every-message-delivered.ts';
import { failedPaymentsCompensated } from './failed-payments-compensated.ts';
import { historyConsistent } from './history-consistent.ts';
import { holdsHonoured } from './holds-honoured.ts';
import { latePaymentsRefunded } from './late-payments-refunded.ts';
import { messageEffectsOnce } from './message-effects-once.ts';
import { moneyConserved } from './money-conserved.ts';
import { noOverselling } from './no-overselling.ts';
import { noStuckSaga } from './no-stuck-saga.ts';
import { paidInTimeKept } from './paid-in-time-kept.ts';
import { providerLedgerReconciles } from './provider-ledger.ts';
import { noRefundRefused } from './refunds-refused.ts';
import { refusalsLeftNothing } from './refusals-left-nothing.ts';
import { seatLimitPerFan } from './seat-limit.ts';
import { seatOwnership } from './seat-ownership.ts';
import type { CheckContext, CheckResult, InvariantCheck } from './types.ts';
import {
  admissionRateHonoured,
  admissionsFollowController,
  fairQueueOrder,
  noReservationWithoutAdmission,
} from './waiting-room-checks.ts';
import { readWire } from './wire.ts';

export type { CheckResult } from './types.ts';

/** Every invariant, by its stable name: seats first, then the saga, the money, the waiting room and the history. */
export const INVARIANTS: readonly InvariantCheck[] = [
  noOverselling,
  seatOwnership,
  seatLimitPerFan,
  holdsHonoured,
  paidInTimeKept,
  failedPaymentsCompensated,
  confirmedIffCaptured,
  latePaymentsRefunded,
  noRefundRefused,
  noStuckSaga,
  endedInTime,
  everyMessageDelivered,
  messageEffectsOnce,
  moneyConserved,
  providerLedgerReconciles,
  noReservationWithoutAdmission,
  fairQueueOrder,
  admissionRateHonoured,
  admissionsFollowController,
  refusalsLeftNothing,
  historyConsistent,
  acknowledgedKept,
];

export interface CheckerOptions {
  ticketDb: string;
  paymentDb: string;
  accountDb: string;
  providerDb?: string;
  kafkaBrokers?: string[];
  topicPrefix?: string;
  eventId: string;
  redisUrl?: string;
  redisPrefix?: string;
  /** Misbehaving fans' refused requests (kept in the report, so a re-check sees them too). */
  refusals?: Refusal[];
  /** The services' rules the timeliness checks judge against (the defaults when absent). */
  rules?: TimelinessRules;
  /** When the provider or payment-service was away during the run (its faults). */
  paymentOutages?: Array<{ from: string; to: string }>;
}

/** The run's change log, or why there is none: it is not kept in the report, so a re-check has none. */
export type RunChanges = { log: ChangeLog } | { unavailable: string };

/** What only the run itself knows, and a re-check from its report does not. */
export interface RunEvidence {
  changes: RunChanges;
  /** The bookings the fans were answered for (the recorder's); absent on a re-check. */
  acknowledged?: readonly AcknowledgedBooking[];
}

/** Runs every invariant against the databases and Kafka directly; none of the services' code is involved. */
export async function checkInvariants(
  o: CheckerOptions,
  evidence: RunEvidence = {
    changes: { unavailable: 'a re-check reads no change log: the run kept it only while it lasted' },
  },
): Promise<CheckResult[]> {
  const { changes } = evidence;
  const ticket = harnessPool(o.ticketDb, 2);
  const payment = harnessPool(o.paymentDb, 2);
  const account = harnessPool(o.accountDb, 1);
  const provider = o.providerDb === undefined ? undefined : harnessPool(o.providerDb, 2);
  const redis =
    o.redisUrl === undefined
      ? undefined
      : new Redis(o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis?.connect();
    let wire: CheckContext['wire'];
    if (o.kafkaBrokers !== undefined) {
      const ids = new Set(
        (await ticket.query('SELECT id FROM reservations WHERE event_id = $1', [o.eventId])).rows.map(
          (r) => r.id as string,
        ),
      );
      wire = await readWire(o.kafkaBrokers, o.topicPrefix ?? '', ids);
    }
    const ctx: CheckContext = {
      ticket,
      payment,
      account,
      provider,
      eventId: o.eventId,
      wire,
      redis,
      redisPrefix: o.redisPrefix ?? 'ticket:',
      refusals: o.refusals,
      acknowledged: evidence.acknowledged,
      changes: 'log' in changes ? changes.log : undefined,
      changesUnavailable: 'unavailable' in changes ? changes.unavailable : undefined,
      rules: o.rules,
      paymentOutages: o.paymentOutages,
    };
    const results: CheckResult[] = [];
    for (const check of INVARIANTS) {
      try {
        results.push({ name: check.name, title: check.title, ...(await check.run(ctx)) });
      } catch (error) {
        results.push({
          name: check.name,
          title: check.title,
          verdict: 'FAIL',
          detail: `the check itself failed: ${(error as Error).message}`,
          examples: [],
        });
      }
    }
    return results;
  } finally {
    redis?.disconnect();
    await Promise.all([ticket.end(), payment.end(), account.end(), provider?.end()]);
  }
}
