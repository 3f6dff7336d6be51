import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testInfra, waitFor } from '@reservex/kit/testing';
import { emptyCharts, renderedCharts } from '../src/report/browser-check.ts';
import { renderHtml } from '../src/report/html-report.ts';
import { legendName, type PrometheusSeries, prometheusSeries } from '../src/report/prometheus-charts.ts';
import type { RunReport } from '../src/report/run-report.ts';

// Series every Prometheus has about itself, so the test needs nothing but a running Prometheus.
const DASHBOARD = {
  title: 'Test dashboard',
  panels: [
    { type: 'stat', title: 'A stat, not charted', targets: [{ expr: 'up' }] },
    {
      type: 'timeseries',
      title: 'Targets up',
      targets: [{ expr: 'up{job="prometheus"}', legendFormat: '{{job}} up' }],
    },
    {
      type: 'timeseries',
      title: 'Two queries',
      fieldConfig: { defaults: { unit: 'reqps' } },
      targets: [
        { expr: 'vector(2)', legendFormat: 'two' },
        { expr: 'vector(3)', legendFormat: 'three' },
      ],
    },
    { type: 'timeseries', title: 'Broken', targets: [{ expr: 'sum(' }] },
  ],
};

describe('the report’s server-side charts, from Prometheus', function () {
  this.timeout(90_000);
  let dir: string;
  let dashboardFile: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'reservex-prom-'));
    dashboardFile = join(dir, 'dashboard.json');
    writeFileSync(dashboardFile, JSON.stringify(DASHBOARD));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names lines from the legend format of the query and the labels, as the control room does', () => {
    assert.equal(legendName('server {{stage}}', { stage: 'confirmed' }), 'server confirmed');
    assert.equal(legendName('{{ status_code }}', { status_code: '409' }), '409');
    assert.equal(legendName(undefined, { job: 'x' }), '{"job":"x"}');
  });

  it('queries each time-series panel of a dashboard over the run window, with the panel’s own PromQL', async () => {
    const url = testInfra().prometheusUrl;
    // A freshly started Prometheus has scraped itself only once or twice: wait for two samples.
    const series = await waitFor(
      async () => {
        const now = Date.now();
        const s = await prometheusSeries({ url, dashboardFile, fromMs: now - 120_000, toMs: now });
        if ('unavailable' in s) throw new Error(s.unavailable);
        return (s.charts[0]?.lines[0]?.points.length ?? 0) >= 2 ? s : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 2000, what: 'two scrapes of Prometheus by itself' },
    );
    assert.deepEqual(
      series.charts.map((c) => c.title),
      ['Targets up', 'Two queries', 'Broken'],
    );
    const [up, two, broken] = series.charts;
    assert.deepEqual(
      up!.lines.map((l) => l.name),
      ['prometheus up'],
    );
    assert.ok(up!.lines[0]!.points.every(([t, v]) => v === 1 && t >= 0 && t <= 120));
    assert.equal(two!.unit, 'per second');
    assert.deepEqual(
      two!.lines.map((l) => [l.name, l.points[0]?.[1]]),
      [
        ['two', 2],
        ['three', 3],
      ],
    );
    assert.match(broken!.error ?? '', /sum\(: .*parse error/);

    // And the page draws them: every panel with data is a line in headless Chromium.
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtml(minimalReport(series)));
    const drawn = await renderedCharts(file);
    assert.deepEqual(emptyCharts(drawn, ['prom-targets-up', 'prom-two-queries']), []);
    assert.deepEqual(emptyCharts(drawn, ['prom-broken']), ['prom-broken: no series']);
  });

  it('says why when no Prometheus answers, rather than failing the run', async () => {
    const s = await prometheusSeries({ url: 'http://127.0.0.1:1', dashboardFile, fromMs: 0, toMs: 1 });
    assert.ok('unavailable' in s);
    assert.match(s.unavailable, /no Prometheus at http:\/\/127\.0\.0\.1:1/);
  });
});

function minimalReport(prometheus: PrometheusSeries): RunReport {
  return {
    scenario: { name: 't', description: 't', users: 1, capacity: 1, seed: 1, scale: 1 },
    startedAt: new Date().toISOString(),
    durationSeconds: 1,
    registration: { fans: 1, seconds: 1, perSecond: 1 },
    seatMapViews: { views: 0, originRequests: 0 },
    timeToSellOutSeconds: null,
    confirmedPerSecond: 0,
    soldSeats: 0,
    soldRatio: 0,
    reserveToConfirmMs: { p50: 0, p95: 0, p99: 0, count: 0 },
    queueWaitMs: { p50: 0, p95: 0, p99: 0, count: 0 },
    http: {},
    outcomes: {},
    fans: { retries: 0, gaveUp: 0, transientErrors: {}, shed503: 0 },
    payments: null,
    collapse: { payingFans: 0, confirmed: 0, fansServed: 1, wastedCaptures: 0, wastedCaptureRatio: 0 },
    facts: {},
    expectations: [],
    misbehaviours: { byKind: {}, wrongAnswers: [] },
    redelivered: null,
    faults: [],
    unexpectedExits: [],
    quiescence: { reached: true, waitedMs: 0, pending: 0, processing: 0, unpublished: 0 },
    check: { eventId: 'e', ticketDb: 'x', paymentDb: 'x', accountDb: 'x' },
    invariants: [],
    thresholds: [],
    passed: true,
    series: [],
    prometheus,
    errors: [],
    loadGenerator: null,
    figuresPublishable: true,
    browserFans: null,
    processes: null,
    waitingRoom: null,
  };
}
