import { mkdirSync, writeFileSync } from 'node:fs';
import type { StartedStack } from '@reservex/stack';
import { renderHtml } from '../report/html-report.ts';
import { buildReport, type RunReport, renderSummary } from '../report/run-report.ts';
import { capacity, type Scenario } from '../scenario.ts';
import type { Judgement } from './judge-run.ts';
import type { Sale } from './prepare-sale.ts';
import type { Recorder } from './recorder.ts';
import type { CrowdRun } from './run-crowd.ts';
import { checkExpectations } from './run-facts.ts';

export interface ReportPlace {
  reportDir: string;
  jsonPath: string;
  htmlPath: string;
}

/** The verdict, written as JSON and HTML and printed: the invariants, thresholds, expectations and figures. */
export function writeReports(
  o: { scenario: Scenario; seed: number; scale: number; log: (m: string) => void } & ReportPlace,
  run: { recorder: Recorder; stack: StartedStack | undefined },
  sale: Sale,
  crowd: CrowdRun,
  judged: Judgement,
): RunReport {
  const { recorder, stack } = run;
  const second = (at: number) => Math.round((at - recorder.startedAt) / 100) / 10;
  const report = buildReport({
    scenario: o.scenario,
    capacity: capacity(o.scenario),
    seed: o.seed,
    scale: o.scale,
    recorder,
    salesOpenAt: sale.salesOpenAt,
    finishedAt: crowd.finishedAt,
    quiescence: judged.quiescence,
    invariants: judged.invariants,
    registrationSeconds: sale.registrationSeconds,
    seatMap: { views: crowd.seatMap.views, originRequests: crowd.seatMap.originRequests },
    prometheus: judged.prometheus,
    soldSeats: judged.soldSeats,
    check: judged.check,
    payments: judged.payments,
    facts: judged.facts,
    expectations: checkExpectations(o.scenario.expect, judged.facts),
    redelivered: crowd.redelivered?.byTopic ?? null,
    faults: (crowd.faults?.records ?? []).map((r, i) => ({
      label: r.label,
      fault: r.fault,
      startedAt: new Date(r.startedAt).toISOString(),
      atSecond: second(r.startedAt),
      endedAtSecond: r.endedAt === undefined ? null : second(r.endedAt),
      recoverySeconds:
        r.endedAt === undefined
          ? null
          : (crowd.monitor.drainedAfter(r.endedAt) ??
            (judged.settledAt === undefined ? null : Math.round((judged.settledAt - r.endedAt) / 100) / 10)),
      ...(r.error === undefined ? {} : { error: r.error }),
      ...(r.observed === undefined ? {} : { observed: r.observed }),
      ...(judged.failovers[i] === undefined ? {} : { failover: judged.failovers[i] }),
    })),
    unexpectedExits: (stack?.unexpectedExits ?? []).map((e) => ({
      target: e.target,
      atSecond: second(e.at),
      detail: e.detail,
    })),
    ownsServices: (stack?.started.length ?? 0) > 0,
    loadGenerator: crowd.loadGenerator,
    browserFans: crowd.browserFans,
    processes: crowd.processes,
    waitingRoom: crowd.waitingRoom,
  });
  mkdirSync(o.reportDir, { recursive: true });
  writeFileSync(o.jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(o.htmlPath, renderHtml(report));
  console.log(renderSummary(report));
  o.log(`reports: ${o.jsonPath} and ${o.htmlPath}`);
  if (recorder.errors.length > 0) o.log(`first errors: ${recorder.errors.slice(0, 5).join(' | ')}`);
  return report;
}
