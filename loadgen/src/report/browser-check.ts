// Opens an HTML report in headless Chromium and reads back what the browser actually drew: for each chart, its
// series, how many points each has, and the size of the rendered line. Talks the DevTools protocol over the
// WebSocket built into Node, so no browser-automation package is needed.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHROMIUM_PATHS, findChromium } from '@reservex/stack';

export interface RenderedChart {
  id: string;
  series: Array<{ name: string; points: number; width: number; height: number }>;
}

async function devtoolsUrl(browser: ChildProcess): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`Chromium did not start: ${err.slice(-500)}`)), 20_000);
    browser.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolvePromise(m[1]!);
      }
    });
    browser.once('exit', (code) => reject(new Error(`Chromium exited with ${code}: ${err.slice(-500)}`)));
  });
}

// Polls until the report itself has loaded: right after start the tab may still hold its initial blank document.
const PROBE = `new Promise((done) => {
  const read = () => [...document.querySelectorAll('figure.chart')].map((f) => ({
    id: f.id,
    series: [...f.querySelectorAll('polyline.series')].map((p) => {
      const box = p.getBBox();
      return { name: p.dataset.series, points: p.points.numberOfItems, width: box.width, height: box.height };
    }),
  }));
  const started = Date.now();
  const poll = () => {
    if (location.protocol === 'file:' && document.readyState === 'complete') done(read());
    else if (Date.now() - started > 15000) done([]);
    else setTimeout(poll, 50);
  };
  poll();
})`;

/** The charts of `htmlPath` as headless Chromium rendered them. */
export async function renderedCharts(htmlPath: string): Promise<RenderedChart[]> {
  const chromium = findChromium();
  if (chromium === undefined)
    throw new Error(
      `no Chromium at ${CHROMIUM_PATHS.join(', ')}: install the Debian package chromium (npm test installs it when run as root)`,
    );
  const profile = mkdtempSync(join(tmpdir(), 'reservex-chromium-'));
  const browser = spawn(
    chromium,
    [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--remote-debugging-port=0',
      `--user-data-dir=${profile}`,
      pathToFileURL(resolve(htmlPath)).href,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  try {
    const browserWs = await devtoolsUrl(browser);
    const { host } = new URL(browserWs);
    const deadline = Date.now() + 20_000;
    let pageWs: string | undefined;
    while (pageWs === undefined && Date.now() < deadline) {
      const targets = (await (await fetch(`http://${host}/json/list`)).json()) as Array<{
        type: string;
        url: string;
        webSocketDebuggerUrl: string;
      }>;
      pageWs = targets.find((t) => t.type === 'page' && t.url.startsWith('file:'))?.webSocketDebuggerUrl;
      if (pageWs === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    if (pageWs === undefined) throw new Error('Chromium opened no page for the report');
    const ws = new WebSocket(pageWs);
    await new Promise((r, j) => {
      ws.onopen = r;
      ws.onerror = () => j(new Error('could not connect to the page over DevTools'));
    });
    const pending = new Map<
      number,
      (msg: { result?: { result?: { value?: RenderedChart[] } }; error?: { message?: string } }) => void
    >();
    ws.onmessage = (m) => {
      const msg = JSON.parse(String(m.data));
      pending.get(msg.id)?.(msg);
    };
    let answer: Parameters<NonNullable<ReturnType<typeof pending.get>>>[0] = {};
    // The tab's first document is replaced by the report as it loads; an evaluation caught in between is retried.
    for (let id = 1; id <= 5; id++) {
      answer = await new Promise((r) => {
        pending.set(id, r);
        ws.send(
          JSON.stringify({
            id,
            method: 'Runtime.evaluate',
            params: { expression: PROBE, awaitPromise: true, returnByValue: true },
          }),
        );
      });
      if (!/context was destroyed/.test(answer.error?.message ?? '')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    ws.close();
    if (answer.error !== undefined) throw new Error(`DevTools: ${JSON.stringify(answer.error)}`);
    return answer.result?.result?.value ?? [];
  } finally {
    if (browser.exitCode === null) {
      const exited = new Promise((r) => browser.once('exit', r));
      browser.kill('SIGKILL');
      await exited;
    }
    rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
  }
}

/** The problems a reader would see: a chart missing, or a series with no line drawn. */
export function emptyCharts(charts: readonly RenderedChart[], expected: readonly string[]): string[] {
  const problems: string[] = [];
  for (const id of expected) {
    const chart = charts.find((c) => c.id === id);
    if (chart === undefined) problems.push(`${id}: not rendered`);
    else if (chart.series.length === 0) problems.push(`${id}: no series`);
    else if (!chart.series.some((s) => s.points >= 2 && (s.width > 0 || s.height > 0)))
      problems.push(`${id}: every series is empty`);
  }
  return problems;
}

export const REPORT_CHARTS = [
  'chart-sold',
  'chart-queue',
  'chart-admissions',
  'chart-latency',
  'chart-payments',
] as const;

/** The Prometheus-drawn charts a report says it holds, from the data embedded in it. */
export function prometheusChartIds(html: string): string[] | undefined {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  if (m === null) return undefined;
  const report = JSON.parse(m[1]!) as { prometheus?: { charts?: Array<{ id: string }> } };
  return report.prometheus?.charts?.map((c) => c.id);
}

// `node loadgen/src/report/browser-check.ts report.html [--require-prometheus]`: exits non-zero when a chart
// renders empty, or (with the flag) when the report has no charts drawn from Prometheus.
if (import.meta.main) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: node loadgen/src/report/browser-check.ts <report.html> [--require-prometheus]');
    process.exit(2);
  }
  const fromPrometheus = prometheusChartIds(readFileSync(file, 'utf8')) ?? [];
  if (process.argv.includes('--require-prometheus') && fromPrometheus.length === 0) {
    console.error('the report has no charts from Prometheus: was Prometheus running during the scenario?');
    process.exit(1);
  }
  const expected = [...REPORT_CHARTS, ...fromPrometheus];
  const charts = await renderedCharts(file);
  const problems = emptyCharts(charts, expected);
  for (const c of charts)
    console.log(`${c.id}: ${c.series.map((s) => `${s.name} ${s.points} points`).join(', ')}`);
  if (problems.length > 0) {
    console.error(`report charts are empty in Chromium:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`all ${expected.length} charts hold data in headless Chromium`);
}
