import { join } from 'node:path';
import { harnessPool, type Targets } from '@reservex/stack';
import { DEFAULT_RULES, type TimelinessRules } from '../invariants/ended-in-time.ts';
import { type CheckResult, checkInvariants, type RunChanges } from '../invariants/index.ts';
import { type PrometheusSeries, prometheusSeries } from '../report/prometheus-charts.ts';
import type { CheckTarget, FailoverReport } from '../report/run-report.ts';
import type { Scenario } from '../scenario.ts';
import type { ChangeCapture } from '../wal/change-capture.ts';
import { failoverFigures } from './failover-figures.ts';
import { type PaymentFigures, paymentFigures } from './payment-figures.ts';
import { awaitQuiescence, type QuiescenceResult } from './quiescence.ts';
import type { Recorder } from './recorder.ts';
import type { CrowdRun } from './run-crowd.ts';
import { type RunFacts, runFacts } from './run-facts.ts';

const OVERVIEW_DASHBOARD = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'dashboards',
  'flash-sale-overview.json',
);

/** What the databases, Kafka, the provider's ledger and Prometheus say of the sale, once the saga has settled. */
export interface Judgement {
  quiescence: QuiescenceResult;
  /** When the saga had settled, if it did. */
  settledAt: number | undefined;
  check: CheckTarget;
  invariants: CheckResult[];
  payments: PaymentFigures | undefined;
  facts: RunFacts;
  prometheus: PrometheusSeries;
  soldSeats: number | undefined;
  /** For each fault record, index for index: the failover's figures when it lost a replicated primary. */
  failovers: Array<FailoverReport | undefined>;
}

/**
 * Waits for the saga to settle (nothing pending, nothing in flight, every outbox drained), then reads everything
 * the verdict rests on afresh from where it lives: none of the services' code is asked.
 */
export async function judgeRun(
  o: { scenario: Scenario; targets: Targets; recorder: Recorder; log: (m: string) => void },
  eventId: string,
  crowd: CrowdRun,
  capture: ChangeCapture | { unavailable: string },
): Promise<Judgement> {
  const { targets, recorder } = o;
  const quiescence = await awaitQuiescence(
    targets.ticketDb,
    targets.paymentDb,
    eventId,
    o.scenario.quiescenceTimeoutSeconds * 1000,
  );
  const settledAt = quiescence.reached ? Date.now() : undefined;
  await crowd.monitor.stop();
  const changes: RunChanges = 'unavailable' in capture ? capture : { log: await capture.stop() };
  const check: CheckTarget = {
    eventId,
    ticketDb: targets.ticketDb,
    paymentDb: targets.paymentDb,
    accountDb: targets.accountDb,
    providerDb: targets.providerDb,
    kafkaBrokers: targets.kafkaBrokers,
    topicPrefix: targets.topicPrefix,
    redisUrl: targets.ticketRedis,
    redisPrefix: targets.ticketRedisPrefix,
    refusals: recorder.refusals,
    rules: rulesOf(o.scenario),
    paymentOutages: (crowd.faults?.records ?? [])
      .filter(
        (r) =>
          r.fault.action === 'provider-outage' ||
          ('target' in r.fault && PAYMENT_SIDE.includes(r.fault.target)),
      )
      .map((r) => ({
        from: new Date(r.startedAt).toISOString(),
        to: new Date(r.endedAt ?? Date.now()).toISOString(),
      })),
  };
  const invariants = await checkInvariants(check, {
    changes,
    acknowledged: [...recorder.acknowledged.values()],
  });
  const payments = await paymentFigures({
    ticketDb: targets.ticketDb,
    paymentDb: targets.paymentDb,
    providerDb: targets.providerDb,
    eventId,
  });
  const facts = await runFacts({
    ticketDb: targets.ticketDb,
    eventId,
    recorder,
    payments,
    redelivered: crowd.redelivered?.count ?? 0,
  });
  const prometheus = await prometheusSeries({
    url: targets.prometheus,
    dashboardFile: OVERVIEW_DASHBOARD,
    fromMs: recorder.startedAt,
    // Prometheus scrapes every 5 s; a window that closes a scrape after the last fan keeps the charts' tails.
    toMs: Math.max(Date.now(), crowd.finishedAt + 6000),
  });
  if ('unavailable' in prometheus) o.log(`charts from the harness's samples only: ${prometheus.unavailable}`);
  const soldSeats = await soldSeatsOf(targets.ticketDb, eventId);
  const failovers = await failoverFigures(targets.ticketDb, eventId, crowd.faults?.records ?? [], recorder);
  return { quiescence, settledAt, check, invariants, payments, facts, prometheus, soldSeats, failovers };
}

const PAYMENT_SIDE: readonly string[] = ['payment-service', 'payment-provider'];

/** The services' rules as the scenario set them, over their defaults: what the timeliness checks judge by. */
function rulesOf(s: Scenario): TimelinessRules {
  const number = (value: string | undefined, fallback: number) =>
    value === undefined ? fallback : Number(value);
  return {
    holdMaxExtensionSeconds: number(
      s.serviceEnv['ticket-service']?.HOLD_MAX_EXTENSION_SECONDS,
      DEFAULT_RULES.holdMaxExtensionSeconds,
    ),
    gatewayTimeoutMs: number(
      s.serviceEnv['payment-service']?.GATEWAY_TIMEOUT_MS,
      DEFAULT_RULES.gatewayTimeoutMs,
    ),
    reconcileBackoffMaxMs: number(
      s.serviceEnv['payment-service']?.RECONCILE_BACKOFF_MAX_MS,
      DEFAULT_RULES.reconcileBackoffMaxMs,
    ),
  };
}

/** Sold seats as the database has them: the fans' own tally misses bookings whose answer an outage swallowed. */
async function soldSeatsOf(ticketDb: string, eventId: string): Promise<number | undefined> {
  const pool = harnessPool(ticketDb, 1);
  try {
    const { rows } = await pool.query(
      "SELECT count(*)::int AS n FROM seats WHERE event_id = $1 AND status = 'SOLD'",
      [eventId],
    );
    return rows[0].n;
  } catch {
    return undefined;
  } finally {
    await pool.end();
  }
}
