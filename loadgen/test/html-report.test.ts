import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyCharts, REPORT_CHARTS, renderedCharts } from '../src/report/browser-check.ts';
import { renderHtml } from '../src/report/html-report.ts';
import { buildReport } from '../src/report/run-report.ts';
import { Recorder } from '../src/run/recorder.ts';
import { loadScenario } from '../src/scenario.ts';

/** A report as a run builds it, from a recorder that watched `seconds` seconds of a sale. */
function reportOf(seconds: number) {
  const recorder = new Recorder(100);
  for (let t = 0; t < seconds; t++) {
    recorder.waiting = Math.max(0, 500 - t * 60);
    recorder.admitted += 40;
    recorder.reservedSeats += 12;
    for (let i = 0; i < 10; i++) recorder.confirmedAfter(200 + t * 30 + i * 7, 1);
    recorder.paymentFailed += 2;
    // The recorder stamps samples with the wall clock; here a second of the sale passes per loop.
    recorder.sample().t = t;
  }
  return buildReport({
    scenario: loadScenario('flash-sale'),
    capacity: 100,
    seed: 1,
    scale: 1,
    recorder,
    salesOpenAt: recorder.startedAt,
    finishedAt: recorder.startedAt + seconds * 1000,
    quiescence: { reached: true, waitedMs: 10, pending: 0, processing: 0, unpublished: 0 },
    invariants: [],
    registrationSeconds: 1,
    seatMap: { views: 1, originRequests: 1 },
    prometheus: { source: 'http://127.0.0.1:1', unavailable: 'not started for this test' },
    soldSeats: undefined,
    check: { eventId: 'e', ticketDb: 'x', paymentDb: 'x', accountDb: 'x' },
    payments: {
      inDoubt: 7,
      resolutionMs: { p50: 310, p99: 2900, max: 3100, count: 7 },
      unresolved: 0,
      providerCaptures: 60,
      providerRefunds: 3,
      lateCaptures: 1,
      wastedCaptures: 1,
      paidInTime: 58,
      paidInTimeLost: 1,
      refusedHoldExpired: 0,
    },
    facts: { expiredHolds: 3 },
    expectations: [{ fact: 'expiredHolds', expected: '>= 1', actual: 3, pass: true }],
    redelivered: { 'saga.payment.completed': 4 },
    faults: [
      {
        label: 'kill payment-service (SIGKILL), back after 3 s',
        fault: { atSeconds: 5, action: 'kill', target: 'payment-service', signal: 'SIGKILL', downSeconds: 3 },
        startedAt: new Date().toISOString(),
        atSecond: 5,
        endedAtSecond: 9,
        recoverySeconds: 2,
      },
    ],
    unexpectedExits: [],
    ownsServices: true,
  });
}

describe('the HTML report in headless Chromium', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'reservex-report-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('renders all five charts, each with its series drawn from the run’s data', async () => {
    const file = join(dir, 'run.html');
    writeFileSync(file, renderHtml(reportOf(10)));
    const charts = await renderedCharts(file);
    assert.deepEqual(
      charts.map((c) => c.id),
      [...REPORT_CHARTS],
    );
    assert.deepEqual(emptyCharts(charts, REPORT_CHARTS), []);
    const sold = charts.find((c) => c.id === 'chart-sold')!.series.find((s) => s.name === 'sold')!;
    assert.equal(sold.points, 10, 'one point per second of the run');
    assert.ok(sold.height > 0, 'seats sold rose, so the line climbs');
    const latency = charts.find((c) => c.id === 'chart-latency')!;
    assert.deepEqual(
      latency.series.map((s) => s.name),
      ['p50', 'p95', 'p99'],
    );
  });

  it('shades each fault’s window on every chart and lists the faults with their recovery', () => {
    const html = renderHtml(reportOf(10));
    assert.equal(html.match(/class="fault-window"/g)?.length, REPORT_CHARTS.length);
    assert.match(html, /<h2>Faults<\/h2>.*kill payment-service \(SIGKILL\), back after 3 s/s);
    const noFaults = renderHtml({ ...reportOf(10), faults: [] });
    assert.doesNotMatch(noFaults, /fault-window|<h2>Faults/);
  });

  it('flags a report whose charts have no data', async () => {
    const file = join(dir, 'empty.html');
    writeFileSync(file, renderHtml(reportOf(0)));
    const problems = emptyCharts(await renderedCharts(file), REPORT_CHARTS);
    assert.equal(problems.length, REPORT_CHARTS.length, problems.join('; '));
    assert.match(problems[0]!, /chart-sold: every series is empty/);
  });
});
