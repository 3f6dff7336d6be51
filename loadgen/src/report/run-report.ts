import type { Fault } from '../chaos/faults.ts';
import type { BrowserFansReport, Distribution } from '../fans/browser-fans.ts';
import type { CheckerOptions, CheckResult } from '../invariants/index.ts';
import type { PaymentFigures } from '../run/payment-figures.ts';
import type { QuiescenceResult } from '../run/quiescence.ts';
import { percentile, type Recorder, type SecondSample } from '../run/recorder.ts';
import type { Expectation, RunFacts } from '../run/run-facts.ts';
import type { LoadGeneratorFigures } from '../run/self-monitor.ts';
import type { Scenario } from '../scenario.ts';
import { type CollapseFigures, collapseFigures, collapseLimits } from './collapse.ts';
import {
  type ProcessFigures,
  processRows,
  type WaitingRoomFigures,
  waitingRoomRows,
} from './process-figures.ts';
import type { PrometheusSeries } from './prometheus-charts.ts';

export interface ThresholdResult {
  name: string;
  limit: number;
  actual: number;
  pass: boolean;
}

/** Where the checker reads a run's evidence: kept in the report, so `scenario check` can read it again later. */
export type CheckTarget = CheckerOptions;

export interface FaultReport {
  label: string;
  fault: Fault;
  startedAt: string;
  /** Seconds since the run started. */
  atSecond: number;
  endedAtSecond: number | null;
  /** From the end of the fault until no message waited in an outbox and no hold was overdue. */
  recoverySeconds: number | null;
  error?: string;
  /** For network faults: what the affected service reported while it lasted. */
  observed?: string;
  /** For the loss of a replicated primary: what took over, and the RTO and RPO figures measured around it. */
  failover?: FailoverReport;
}

export interface FailoverReport {
  lost: string;
  promoted: string | null;
  /** From the kill until a node took writes through the router. */
  writesBackSeconds: number | null;
  /** RTO: from the kill until the first booking written on the new primary (PostgreSQL losses only). */
  firstBookingSeconds: number | null;
  /** Bookings the fans were answered for before the kill, and how many of those confirmed: RPO's sample. */
  acknowledgedBefore: { bookings: number; confirmed: number };
}

export interface RunReport {
  scenario: {
    name: string;
    description: string;
    users: number;
    capacity: number;
    seed: number;
    scale: number;
  };
  startedAt: string;
  durationSeconds: number;
  registration: { fans: number; seconds: number; perSecond: number };
  seatMapViews: { views: number; originRequests: number };
  timeToSellOutSeconds: number | null;
  confirmedPerSecond: number;
  soldSeats: number;
  soldRatio: number;
  reserveToConfirmMs: { p50: number; p95: number; p99: number; count: number };
  queueWaitMs: { p50: number; p95: number; p99: number; count: number };
  http: Record<string, number>;
  outcomes: Record<string, number>;
  /** What the fans' apps went through: retries after transient answers, and those who gave up. */
  fans: {
    retries: number;
    gaveUp: number;
    transientErrors: Record<string, number>;
    shed503: number;
    /** GETs sent again on a fresh connection after a kept-alive one closed under them (http-client.ts). */
    closedKeepAliveRetries?: number;
  };
  /** Payments in doubt and how fast they were resolved, and the money at the provider. */
  payments: PaymentFigures | null;
  /** Paying fans served, and captures wasted (docs/overload.md). */
  collapse: CollapseFigures;
  /** What the run did, as the facts a scenario's `expect` block names; and those expectations, judged. */
  facts: RunFacts;
  expectations: Expectation[];
  /** Misbehaving fans' attempts by kind (tried, refused as they must be, answered wrongly), and the wrong answers. */
  misbehaviours: {
    byKind: Record<string, { tried: number; refused: number; wrong: number }>;
    wrongAnswers: string[];
  };
  /** Saga messages the harness sent again as exact duplicates, by topic; null when the scenario does not. */
  redelivered: Record<string, number> | null;
  faults: FaultReport[];
  /** Processes that exited without the runner's doing: each fails the run. */
  unexpectedExits: Array<{ target: string; atSecond: number; detail: string }>;
  quiescence: QuiescenceResult;
  check: CheckTarget;
  invariants: CheckResult[];
  thresholds: ThresholdResult[];
  passed: boolean;
  /** The fans' side, sampled by the harness every second. */
  series: SecondSample[];
  /** The servers' side, as the Flash-sale overview dashboard showed it during the run. */
  prometheus: PrometheusSeries;
  errors: string[];
  /** The load generator's own CPU and event-loop delay, and whether it, not the system, set the pace. */
  loadGenerator: LoadGeneratorFigures | null;
  /** False when the load generator was the bottleneck: the invariants stand, the speed figures do not. */
  figuresPublishable: boolean;
  /** The few real browser fans and the web vitals their pages showed (--browser-fans); null without them. */
  browserFans: BrowserFansReport | null;
  /** Each service's CPU over the sale, from its processes' own counters; null when the run had no crowd. */
  processes: ProcessFigures | null;
  /** What the waiting crowd cost, per fan; null when the sale had no waiting room. */
  waitingRoom: WaitingRoomFigures | null;
}

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    count: sorted.length,
  };
};

export function buildReport(input: {
  scenario: Scenario;
  capacity: number;
  seed: number;
  scale: number;
  recorder: Recorder;
  salesOpenAt: number;
  finishedAt: number;
  quiescence: QuiescenceResult;
  invariants: CheckResult[];
  registrationSeconds: number;
  seatMap: { views: number; originRequests: number };
  prometheus: PrometheusSeries;
  /** SOLD seats as the database has them, when it could be read. */
  soldSeats: number | undefined;
  check: CheckTarget;
  payments: PaymentFigures | undefined;
  facts: RunFacts;
  expectations: Expectation[];
  redelivered: Record<string, number> | null;
  faults: FaultReport[];
  unexpectedExits: RunReport['unexpectedExits'];
  /** The runner started the services itself, so it can tell whether one exited on its own. */
  ownsServices: boolean;
  /** How busy the load generator itself was; absent when the run ended before the fans came. */
  loadGenerator?: LoadGeneratorFigures | undefined;
  browserFans?: BrowserFansReport | undefined;
  processes?: ProcessFigures | undefined;
  waitingRoom?: WaitingRoomFigures | undefined;
}): RunReport {
  const { recorder: r, scenario: s } = input;
  const sellingSeconds = Math.max(1, ((r.soldOutAt ?? input.finishedAt) - input.salesOpenAt) / 1000);
  const latency = stats(r.confirmLatencies);
  const sold = input.soldSeats ?? r.soldSeats;
  const soldRatio = sold / input.capacity;
  // A 503 with Retry-After is the service saying "not now" on purpose: counted apart, with its own threshold.
  const http5xx =
    [...r.http.entries()]
      .filter(([k]) => k.startsWith('5') || k === 'network-error')
      .reduce((n, [, v]) => n + v, 0) - r.shed503;
  const thresholds: ThresholdResult[] = [];
  if (s.thresholds.minSoldRatio !== undefined) {
    thresholds.push({
      name: 'sold ratio ≥',
      limit: s.thresholds.minSoldRatio,
      actual: round(soldRatio, 3),
      pass: soldRatio >= s.thresholds.minSoldRatio,
    });
  }
  if (s.thresholds.maxReserveToConfirmP99Ms !== undefined) {
    thresholds.push({
      name: 'reserve→confirmed p99 ms ≤',
      limit: s.thresholds.maxReserveToConfirmP99Ms,
      actual: latency.p99,
      pass: latency.p99 <= s.thresholds.maxReserveToConfirmP99Ms,
    });
  }
  if (s.thresholds.maxHttp5xx !== undefined) {
    thresholds.push({
      name: 'HTTP 5xx + network errors ≤',
      limit: s.thresholds.maxHttp5xx,
      actual: http5xx,
      pass: http5xx <= s.thresholds.maxHttp5xx,
    });
  }
  const atMost = (name: string, limit: number | undefined, actual: number) => {
    if (limit !== undefined) thresholds.push({ name, limit, actual, pass: actual <= limit });
  };
  atMost('503 with Retry-After ≤', s.thresholds.maxShed503, r.shed503);
  const collapse = collapseFigures({
    recorder: r,
    facts: input.facts,
    payments: input.payments,
    unsoldSeats: input.capacity - sold,
  });
  const rules = collapseLimits(s);
  if (collapse.payingFans > 0)
    thresholds.push({
      name: 'fans served (confirmed / fans who would have paid) ≥',
      limit: rules.minFansServed,
      actual: collapse.fansServed,
      pass: collapse.fansServed >= rules.minFansServed,
    });
  atMost('wasted captures / confirmed ≤', rules.maxWastedCaptureRatio, collapse.wastedCaptureRatio);
  atMost('fans who gave up ≤', s.thresholds.maxFansGaveUp, r.fansGaveUp);
  // A figure the run could not measure fails the bound that asks for it: NaN is never at most anything.
  const wr = input.waitingRoom;
  atMost(
    'origin requests / far fan / minute ≤',
    s.thresholds.maxFarOriginPerFanMinute,
    Number((wr?.far.perFanMinute ?? Number.NaN).toPrecision(3)),
  );
  atMost(
    'ticket-service cores while the crowd waits ≤',
    s.thresholds.maxTicketCoresWhileWaiting,
    wr?.ticketServiceCores.steadyWaiting ?? Number.NaN,
  );
  const recoveries = input.faults.map((f) => f.recoverySeconds ?? Number.POSITIVE_INFINITY);
  if (input.faults.length > 0)
    atMost('recovery after a fault, s ≤', s.thresholds.maxRecoverySeconds, Math.max(0, ...recoveries));
  // Always, when fans misbehaved: every misbehaviour must get the answer it is owed.
  const wrong = [...r.misbehaviours.values()].reduce((n, m) => n + m.wrong, 0);
  if (r.misbehaviours.size > 0) atMost('misbehaviours answered wrongly ≤', 0, wrong);
  // Always, when the runner started the services: a process that exits on its own is a failed run.
  if (input.ownsServices) atMost('processes that exited on their own ≤', 0, input.unexpectedExits.length);
  const invariantsPass = input.invariants.every((i) => i.verdict !== 'FAIL');
  return {
    scenario: {
      name: s.name,
      description: s.description,
      users: s.users,
      capacity: input.capacity,
      seed: input.seed,
      scale: input.scale,
    },
    startedAt: new Date(r.startedAt).toISOString(),
    durationSeconds: round((input.finishedAt - r.startedAt) / 1000, 1),
    registration: {
      fans: input.scenario.users,
      seconds: round(input.registrationSeconds, 1),
      perSecond: round(input.scenario.users / Math.max(0.001, input.registrationSeconds), 1),
    },
    seatMapViews: input.seatMap,
    timeToSellOutSeconds:
      r.soldOutAt === undefined ? null : round((r.soldOutAt - input.salesOpenAt) / 1000, 1),
    confirmedPerSecond: round(r.confirmed / sellingSeconds, 1),
    soldSeats: sold,
    soldRatio: round(soldRatio, 3),
    reserveToConfirmMs: latency,
    queueWaitMs: stats(r.queueWaits),
    http: Object.fromEntries([...r.http.entries()].sort()),
    outcomes: {
      fansArrived: r.usersArrived,
      signedIn: r.signedIn,
      reservations: r.reservations,
      confirmed: r.confirmed,
      paymentFailedCompensated: r.paymentFailed,
      expired: r.expired,
      cancelled: r.cancelled,
      cancelledAfterPaying: r.cancelledAfterPaying,
      conflicts409: r.conflicts,
      sawSoldOut: r.soldOutSeen,
      leftWhileWaiting: r.abandonedWaiting,
      droppedWhilePolling: r.droppedWhilePolling,
      leftAfterAdmission: r.abandonedAdmitted,
    },
    fans: {
      retries: r.fanRetries,
      closedKeepAliveRetries: r.closedKeepAliveRetries,
      gaveUp: r.fansGaveUp,
      transientErrors: Object.fromEntries(r.transientErrors),
      shed503: r.shed503,
    },
    payments: input.payments ?? null,
    collapse,
    facts: input.facts,
    expectations: input.expectations,
    misbehaviours: { byKind: Object.fromEntries(r.misbehaviours), wrongAnswers: r.wrongAnswers },
    redelivered: input.redelivered,
    faults: input.faults,
    unexpectedExits: input.unexpectedExits,
    quiescence: input.quiescence,
    check: input.check,
    invariants: input.invariants,
    thresholds,
    passed:
      invariantsPass &&
      thresholds.every((t) => t.pass) &&
      input.expectations.every((e) => e.pass) &&
      input.quiescence.reached,
    series: r.series,
    prometheus: input.prometheus,
    errors: r.errors,
    loadGenerator: input.loadGenerator ?? null,
    figuresPublishable: input.loadGenerator?.bottleneck == null,
    browserFans: input.browserFans ?? null,
    processes: input.processes ?? null,
    waitingRoom: input.waitingRoom ?? null,
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** The summary table printed at the end of a run. */
export function renderSummary(report: RunReport): string {
  const lines: string[] = [];
  const row = (k: string, v: string | number) => lines.push(`  ${k.padEnd(34)} ${v}`);
  lines.push(
    '',
    `ReserveX scenario "${report.scenario.name}": ${report.scenario.users} fans for ${report.scenario.capacity} seats (seed ${report.scenario.seed}, scale ${report.scenario.scale})`,
    '',
  );
  row(
    'time to sell out',
    report.timeToSellOutSeconds === null ? 'did not sell out' : `${report.timeToSellOutSeconds} s`,
  );
  row('seats sold', `${report.soldSeats} (${(report.soldRatio * 100).toFixed(1)} %)`);
  row('confirmed bookings per second', report.confirmedPerSecond);
  const l = report.reserveToConfirmMs;
  row('reserve→confirmed p50 / p95 / p99', `${l.p50} / ${l.p95} / ${l.p99} ms (n=${l.count})`);
  const q = report.queueWaitMs;
  row('queue wait p50 / p95 / p99', `${q.p50} / ${q.p95} / ${q.p99} ms (n=${q.count})`);
  for (const [k, v] of Object.entries(report.outcomes)) row(k, v);
  row(
    'HTTP responses by status',
    Object.entries(report.http)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', '),
  );
  row(
    'fans: retries / gave up',
    `${report.fans.retries} / ${report.fans.gaveUp} (transient answers: ${
      Object.entries(report.fans.transientErrors)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ') || 'none'
    }; GETs sent again after a kept-alive connection closed: ${report.fans.closedKeepAliveRetries ?? 0})`,
  );
  const g = report.loadGenerator;
  if (g !== null && g !== undefined) {
    row(
      'load generator CPU / event-loop delay',
      `${Math.round(g.cpuShareOfOneCore * 100)}% of a core (peak ${Math.round(g.peakCpuShareOfOneCore * 100)}%${g.peakAtSeconds === undefined ? '' : ` at ${g.peakAtSeconds} s`}${g.peakWindowGcMs === undefined ? '' : `, the collector's pauses ${g.peakWindowGcMs} ms of that window`}${g.windowsOverLimit === undefined ? '' : `; ${g.windowsOverLimit} window(s) of 5 s at the limit`}); delay p50 / p99 / max ${g.eventLoopDelayMs.p50} / ${g.eventLoopDelayMs.p99} / ${g.eventLoopDelayMs.max} ms`,
    );
    if (g.gc !== undefined)
      row(
        'load generator GC pauses',
        `${(g.gc.shareOfWall * 100).toFixed(1)}% of the run; full (with their incremental steps) ${g.gc.major.count} (${g.gc.major.ms} ms), young ${g.gc.minor.count} (${g.gc.minor.ms} ms)`,
      );
    if (g.bottleneck !== null) row('figures', `NOT PUBLISHABLE: ${g.bottleneck}`);
  }
  for (const [k, v] of browserFanRows(report.browserFans)) row(k, v);
  for (const [k, v] of processRows(report.processes)) row(k, v);
  for (const [k, v] of waitingRoomRows(report.waitingRoom)) row(k, v);
  const p = report.payments;
  if (p !== null && p !== undefined) {
    const d = p.resolutionMs;
    row(
      'payments in doubt',
      p.inDoubt === 0
        ? 'none'
        : `${p.inDoubt}; resolved p50 / p99 / max ${d.p50} / ${d.p99} / ${d.max} ms (n=${d.count}); unresolved ${p.unresolved}`,
    );
    row(
      'at the provider',
      `${p.providerCaptures} capture(s), ${p.providerRefunds} refund(s); captured then refunded because the booking ended: ${p.lateCaptures} (${p.wastedCaptures} of them captured by settle-by, wasted by the system); paid by settle-by: ${p.paidInTime}, of whom ${p.paidInTime - p.paidInTimeLost} kept their seats`,
    );
  }
  const c = report.collapse;
  row(
    'fans served',
    `${c.confirmed} of ${c.payingFans} who would have paid (${(c.fansServed * 100).toFixed(1)} %); wasted captures ${c.wastedCaptures} (${(c.wastedCaptureRatio * 100).toFixed(2)} % of confirmed)`,
  );
  const kinds = Object.entries(report.misbehaviours?.byKind ?? {});
  if (kinds.length > 0)
    row(
      'misbehaviours tried / refused',
      kinds
        .map(([k, m]) => `${k} ${m.tried}/${m.refused}${m.wrong > 0 ? ` (${m.wrong} WRONG)` : ''}`)
        .join(', '),
    );
  if (report.redelivered !== null && report.redelivered !== undefined)
    row(
      'redelivered as duplicates',
      Object.entries(report.redelivered)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ') || 'none',
    );
  if (report.faults.length > 0) {
    lines.push('', '  faults (seconds since the run started)');
    for (const f of report.faults)
      lines.push(
        `    ${String(f.atSecond).padStart(6)}s  ${f.label}; over at ${f.endedAtSecond ?? '—'}s; drained ${
          f.recoverySeconds === null ? 'not within the run' : `${f.recoverySeconds} s later`
        }${f.error === undefined ? '' : `; ERROR ${f.error}`}${f.observed === undefined ? '' : `\n             seen: ${f.observed}`}${f.failover === undefined ? '' : `\n             ${describeFailoverFigures(f.failover)}`}`,
      );
  }
  for (const e of report.unexpectedExits)
    lines.push(`  UNEXPECTED EXIT at ${e.atSecond}s: ${e.target} ${e.detail}`);
  row(
    'quiescence',
    report.quiescence.reached
      ? `reached after ${(report.quiescence.waitedMs / 1000).toFixed(1)} s`
      : `NOT reached: ${JSON.stringify(report.quiescence)}`,
  );
  lines.push('', '  invariants');
  for (const i of report.invariants) lines.push(`    ${i.verdict.padEnd(4)}  ${i.name}: ${i.detail}`);
  if ((report.expectations ?? []).length > 0) {
    lines.push('', "  expected (the scenario's own path)");
    for (const e of report.expectations)
      lines.push(`    ${e.pass ? 'PASS' : 'FAIL'}  ${e.fact} ${e.expected}: ${e.actual ?? 'unknown'}`);
  }
  if (report.thresholds.length > 0) {
    lines.push('', '  thresholds');
    for (const t of report.thresholds)
      lines.push(`    ${t.pass ? 'PASS' : 'FAIL'}  ${t.name} ${t.limit}: ${t.actual}`);
  }
  lines.push('', `  result: ${report.passed ? 'PASS' : 'FAIL'}`, '');
  return lines.join('\n');
}

/** The browser fans' outcomes and web vitals, as label and value rows for the summary and the HTML report. */
export function browserFanRows(b: BrowserFansReport | null | undefined): Array<[string, string]> {
  if (b === null || b === undefined) return [];
  const d = (x: Distribution, unit = ' ms') => `${x.p50} / ${x.p95} / ${x.max}${unit} (n=${x.count})`;
  return [
    [
      'browser fans: outcomes',
      `${b.fans}: ${Object.entries(b.outcomes)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    ],
    ['queue page TTFB p50 / p95 / max', d(b.queuePage.ttfbMs)],
    ['queue page FCP p50 / p95 / max', d(b.queuePage.fcpMs)],
    ['queue page LCP p50 / p95 / max', d(b.queuePage.lcpMs)],
    ['queue page CLS p50 / p95 / max', d(b.queuePage.cls, '')],
    ['queue page INP p50 / p95 / max', d(b.queuePage.inpMs)],
    ['seat map ready after admission', d(b.seatMap.readyMs)],
    ['seat map INP p50 / p95 / max', d(b.seatMap.inpMs)],
    ['seat map CLS p50 / p95 / max', d(b.seatMap.cls, '')],
  ];
}

/** RTO and RPO's sample of one lost primary, as the summary and the HTML report print them. */
export function describeFailoverFigures(f: FailoverReport): string {
  const back =
    f.promoted === null
      ? 'no node took writes within a minute'
      : `${f.promoted} took writes ${f.writesBackSeconds} s after the loss`;
  const rto =
    f.firstBookingSeconds === null
      ? ''
      : `; first booking on it ${f.firstBookingSeconds} s after the loss (RTO)`;
  return `failover: ${f.lost} lost, ${back}${rto}; ${f.acknowledgedBefore.bookings} booking(s) acknowledged before the loss (${f.acknowledgedBefore.confirmed} confirmed), each looked for by acknowledged-kept (RPO)`;
}
