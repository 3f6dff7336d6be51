import type { PrometheusSeries } from './prometheus-charts.ts';
import { browserFanRows, describeFailoverFigures, type RunReport } from './run-report.ts';

export interface Line {
  name: string;
  color: string;
  points: Array<[number, number]>;
}

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A stretch of the run a fault lasted, in seconds since the start, shaded on every chart. */
interface Window {
  from: number;
  to: number;
  label: string;
}

/** A line chart as inline SVG: no script, no network, renders anywhere. `footer` is HTML under the chart. */
export function lineChart(
  id: string,
  title: string,
  unit: string,
  lines: Line[],
  footer = '',
  windows: Window[] = [],
  xAxis = { name: 'seconds since start', suffix: 's' },
): string {
  const W = 640;
  const H = 220;
  const pad = { l: 56, r: 12, t: 28, b: 28 };
  const all = lines.flatMap((l) => l.points);
  const maxX = Math.max(1, ...all.map((p) => p[0]), ...windows.map((w) => w.to));
  const maxY = Math.max(1, ...all.map((p) => p[1]));
  const x = (v: number) => pad.l + (v / maxX) * (W - pad.l - pad.r);
  const y = (v: number) => H - pad.b - (v / maxY) * (H - pad.t - pad.b);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = Math.round(maxY * f);
    return `<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end" font-size="10">${v}</text>`;
  });
  const shaded = windows.map(
    (w) =>
      `<rect class="fault-window" x="${x(w.from).toFixed(1)}" y="${pad.t}" width="${Math.max(1, x(w.to) - x(w.from)).toFixed(1)}" height="${H - pad.t - pad.b}" fill="#f6c" fill-opacity="0.15"><title>${escapeHtml(w.label)}</title></rect>`,
  );
  const polylines = lines.map(
    (l) =>
      `<polyline class="series" data-series="${escapeHtml(l.name)}" data-points="${l.points.length}" fill="none" stroke="${l.color}" stroke-width="2" points="${l.points
        .map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`)
        .join(' ')}"/>`,
  );
  const legend = lines
    .map(
      (l, i) =>
        `<rect x="${pad.l + i * 150}" y="8" width="10" height="10" fill="${l.color}"/><text x="${pad.l + 14 + i * 150}" y="17" font-size="11">${escapeHtml(l.name)}</text>`,
    )
    .join('');
  return `<figure id="${id}" class="chart"><figcaption>${escapeHtml(title)} <small>(${escapeHtml(unit)} over ${escapeHtml(xAxis.name)})</small></figcaption>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}">${shaded.join('')}${ticks.join('')}
<line x1="${pad.l}" x2="${W - pad.r}" y1="${H - pad.b}" y2="${H - pad.b}" stroke="#999"/><text x="${W - pad.r}" y="${H - 8}" text-anchor="end" font-size="10">${maxX}${escapeHtml(xAxis.suffix)}</text>
${polylines.join('\n')}${legend}</svg>${footer}</figure>`;
}

const PALETTE = ['#2a7', '#d33', '#58c', '#e90', '#84c', '#999', '#c84', '#3aa'];

/** The dashboard's panels, drawn from the series Prometheus held for the run; or why there are none. */
function prometheusSection(p: PrometheusSeries, windows: Window[]): string {
  if ('unavailable' in p)
    return `<h2>Over time, servers' side</h2><p>Not drawn: ${escapeHtml(p.unavailable)}. Start Prometheus (<code>npm run infra:up</code>) to have the dashboard's series here.</p>`;
  const charts = p.charts.map((c) =>
    lineChart(
      c.id,
      c.title,
      c.unit,
      c.lines.map((l, i) => ({ ...l, color: PALETTE[i % PALETTE.length]! })),
      `<details><summary>PromQL</summary><pre>${escapeHtml(c.queries.join('\n'))}</pre></details>${
        c.error === undefined ? '' : `<p class="FAIL">${escapeHtml(c.error)}</p>`
      }`,
      windows,
    ),
  );
  return `<h2>Over time, servers' side: the “${escapeHtml(p.dashboard)}” dashboard</h2>
<p>Each chart is a panel of the dashboard, queried from Prometheus at ${escapeHtml(p.source)} over this run with the panel's own PromQL (step ${p.stepSeconds} s).</p>
<div class="charts">${charts.join('\n')}</div>`;
}

/** The whole report as one HTML file: tables, five charts, and the raw data for anyone who wants it. */
export function renderHtml(report: RunReport): string {
  const s = report.series;
  const windows: Window[] = report.faults.map((f) => ({
    from: f.atSecond,
    to: f.endedAtSecond ?? s.at(-1)?.t ?? f.atSecond,
    label: f.label,
  }));
  const pts = (f: (x: (typeof s)[number]) => number): Array<[number, number]> => s.map((p) => [p.t, f(p)]);
  const charts = [
    lineChart(
      'chart-sold',
      'Seats sold',
      'seats',
      [
        { name: 'sold', color: '#2a7', points: pts((p) => p.soldSeats) },
        { name: 'reserved', color: '#58c', points: pts((p) => p.reservedSeats) },
      ],
      '',
      windows,
    ),
    lineChart(
      'chart-queue',
      'Fans waiting',
      'fans',
      [{ name: 'waiting', color: '#c84', points: pts((p) => p.waiting) }],
      '',
      windows,
    ),
    lineChart(
      'chart-admissions',
      'Admissions per second',
      'fans/s',
      [{ name: 'admitted/s', color: '#84c', points: pts((p) => p.admittedPerSecond) }],
      '',
      windows,
    ),
    lineChart(
      'chart-latency',
      'Reserve→confirmed latency',
      'ms',
      [
        { name: 'p50', color: '#2a7', points: pts((p) => p.confirmLatencyP50) },
        { name: 'p95', color: '#e90', points: pts((p) => p.confirmLatencyP95) },
        { name: 'p99', color: '#d33', points: pts((p) => p.confirmLatencyP99) },
      ],
      '',
      windows,
    ),
    lineChart(
      'chart-payments',
      'Payment outcomes (cumulative)',
      'reservations',
      [
        { name: 'confirmed', color: '#2a7', points: pts((p) => p.confirmed) },
        { name: 'failed → compensated', color: '#d33', points: pts((p) => p.paymentFailed) },
        { name: 'expired', color: '#999', points: pts((p) => p.expired) },
      ],
      '',
      windows,
    ),
  ];
  const rows = (entries: Array<[string, string | number]>) =>
    entries.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`).join('');
  const l = report.reserveToConfirmMs;
  const q = report.queueWaitMs;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ReserveX — ${escapeHtml(report.scenario.name)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222;max-width:1400px}
h1{margin:0 0 .2rem} .verdict{font-weight:bold;padding:.1rem .5rem;border-radius:4px}
.PASS{background:#dfd;color:#161}.FAIL{background:#fdd;color:#911}.SKIP{background:#eee;color:#555}
table{border-collapse:collapse;margin:1rem 0} th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(660px,1fr));gap:1rem}
figure{margin:0;border:1px solid #eee;padding:.5rem} figcaption{font-weight:600}
</style></head><body>
<h1>ReserveX scenario “${escapeHtml(report.scenario.name)}” <span class="verdict ${report.passed ? 'PASS' : 'FAIL'}">${report.passed ? 'PASS' : 'FAIL'}</span></h1>
<p>${escapeHtml(report.scenario.description)} — ${report.scenario.users} fans for ${report.scenario.capacity} seats, seed ${report.scenario.seed}, scale ${report.scenario.scale}, started ${escapeHtml(report.startedAt)}.</p>
<table>${rows([
    [
      'time to sell out',
      report.timeToSellOutSeconds === null ? 'did not sell out' : `${report.timeToSellOutSeconds} s`,
    ],
    ['seats sold', `${report.soldSeats} (${(report.soldRatio * 100).toFixed(1)} %)`],
    ['confirmed bookings per second', report.confirmedPerSecond],
    ['reserve→confirmed p50 / p95 / p99', `${l.p50} / ${l.p95} / ${l.p99} ms`],
    ['queue wait p50 / p95 / p99', `${q.p50} / ${q.p95} / ${q.p99} ms`],
    ...Object.entries(report.outcomes).map(([k, v]) => [k, v] as [string, number]),
    ['fans: retries / gave up', `${report.fans.retries} / ${report.fans.gaveUp}`],
    ...(report.loadGenerator === null || report.loadGenerator === undefined
      ? []
      : ([
          [
            'load generator CPU (peak) / event-loop delay p99',
            `${Math.round(report.loadGenerator.cpuShareOfOneCore * 100)}% (${Math.round(report.loadGenerator.peakCpuShareOfOneCore * 100)}%) of a core / ${report.loadGenerator.eventLoopDelayMs.p99} ms${report.loadGenerator.bottleneck === null ? '' : ` — NOT PUBLISHABLE: ${report.loadGenerator.bottleneck}`}`,
          ],
        ] as [string, string][])),
    ...paymentRows(report.payments),
    ...browserFanRows(report.browserFans),
    ...Object.entries(report.misbehaviours?.byKind ?? {}).map(
      ([k, m]) =>
        [`misbehaviour ${k}: tried / refused / wrong`, `${m.tried} / ${m.refused} / ${m.wrong}`] as [
          string,
          string,
        ],
    ),
    [
      'HTTP responses',
      Object.entries(report.http)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', '),
    ],
  ])}</table>
<h2>Invariants</h2>
<table><tr><th>invariant</th><th>what it checks</th><th>verdict</th><th>detail</th></tr>${report.invariants
    .map(
      (i) =>
        `<tr><td><code>${escapeHtml(i.name)}</code></td><td>${escapeHtml(i.title)}</td><td><span class="verdict ${i.verdict}">${i.verdict}</span></td><td>${escapeHtml(i.detail)}${i.examples.length ? `<pre>${escapeHtml(JSON.stringify(i.examples, null, 1))}</pre>` : ''}</td></tr>`,
    )
    .join('')}</table>
${(report.expectations ?? []).length ? `<h2>Expected: the scenario's own path</h2><table>${report.expectations.map((e) => `<tr><td>${escapeHtml(e.fact)} ${escapeHtml(e.expected)}</td><td>${e.actual ?? 'unknown'}</td><td><span class="verdict ${e.pass ? 'PASS' : 'FAIL'}">${e.pass ? 'PASS' : 'FAIL'}</span></td></tr>`).join('')}</table>` : ''}
${report.thresholds.length ? `<h2>Thresholds</h2><table>${report.thresholds.map((t) => `<tr><td>${escapeHtml(t.name)} ${t.limit}</td><td>${t.actual}</td><td><span class="verdict ${t.pass ? 'PASS' : 'FAIL'}">${t.pass ? 'PASS' : 'FAIL'}</span></td></tr>`).join('')}</table>` : ''}
${
  report.faults.length
    ? `<h2>Faults</h2><p>Shaded on every chart. Recovery: from the end of the fault until no message waited in an outbox and no hold was overdue.</p><table><tr><th>at (s)</th><th>fault</th><th>over at (s)</th><th>drained after (s)</th></tr>${report.faults
        .map(
          (f) =>
            `<tr><td>${f.atSecond}</td><td>${escapeHtml(f.label)}${f.error ? ` <span class="verdict FAIL">${escapeHtml(f.error)}</span>` : ''}${f.failover ? `<br>${escapeHtml(describeFailoverFigures(f.failover))}` : ''}</td><td>${f.endedAtSecond ?? '—'}</td><td>${f.recoverySeconds ?? 'not within the run'}</td></tr>`,
        )
        .join('')}</table>`
    : ''
}${
  report.unexpectedExits.length
    ? `<p class="FAIL">Exited on their own: ${escapeHtml(report.unexpectedExits.map((e) => `${e.target} at ${e.atSecond} s (${e.detail})`).join('; '))}</p>`
    : ''
}
${prometheusSection(report.prometheus, windows)}
<h2>Over time, fans' side</h2>
<p>Sampled by the load generator every second.</p>
<div class="charts">${charts.join('\n')}</div>
<script type="application/json" id="report-data">${JSON.stringify(report).replace(/</g, '\\u003c')}</script>
</body></html>
`;
}

function paymentRows(p: RunReport['payments']): Array<[string, string]> {
  if (p === null || p === undefined) return [];
  const d = p.resolutionMs;
  return [
    [
      'payments in doubt (resolved p50 / p99 / max)',
      p.inDoubt === 0
        ? 'none'
        : `${p.inDoubt} (${d.p50} / ${d.p99} / ${d.max} ms; unresolved ${p.unresolved})`,
    ],
    [
      'at the provider',
      `${p.providerCaptures} captures, ${p.providerRefunds} refunds; ${p.lateCaptures} captured then refunded because the booking ended (${p.wastedCaptures} wasted: captured by settle-by); ${p.paidInTime} paid by settle-by, ${p.paidInTime - p.paidInTimeLost} of them kept their seats`,
    ],
  ];
}
