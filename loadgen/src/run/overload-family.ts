#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { escapeHtml, lineChart } from '../report/html-report.ts';
import type { RunReport } from '../report/run-report.ts';
import { loadScenario, type Scenario } from '../scenario.ts';

const USAGE = `usage: npm run overload [-- options]

The overload family (docs/overload.md): the saga's peak is measured first (bench:saga, saturation only), then the
"overload" scenario runs with fans arriving at each multiple of that peak. Goodput at every multiple above 1 must
stay at 90% of the 1x figure or more; each run must also pass its own thresholds (fans served, wasted captures,
reserve→confirmed p99 under half the hold).

options:
  --multiples LIST   offered load as multiples of the peak (default 1,2,4)
  --scale N          the arrival window times N (default 1: 10 s); the rate stays a multiple of the peak
  --peak N           use this peak (confirmed/s) instead of measuring it: figures then are not from one run
  --admission-control off   the seeded failure: the controller switched off (expected to FAIL)
  --seed S           seed for every run (default: random, printed)
  -h, --help         this text

exit code: 0 when every run and the goodput rule pass, 1 when any fails, 2 on bad usage`;

class UsageError extends Error {}

const GOODPUT_FLOOR = 0.9;
// Ten seconds of arrivals at 4× keep the saga saturated for most of a minute; longer windows made the load
// generator (one process, one core at most) the bottleneck at 4× on this 2-core machine.
const BASE_WINDOW_SECONDS = 10;

interface Row {
  multiple: number;
  offeredPerSecond: number;
  fans: number;
  confirmed: number;
  goodput: number;
  goodputVsOne: number | null;
  fansServed: number;
  wastedCaptures: number;
  p99Ms: number;
  shed503: number;
  expired: number;
  passed: boolean;
  report: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [command, ...args], {
      stdio: 'inherit',
      env: { ...process.env, ...env },
    });
    child.on('error', fail);
    child.on('exit', (code) => done(code ?? 1));
  });
}

async function measurePeak(): Promise<number> {
  console.log('overload: measuring the saga peak (bench:saga, saturation only)');
  const code = await run(resolve(import.meta.dirname, '..', '..', 'bench', 'saga-bench.ts'), [], {
    BENCH_SATURATION_ONLY: '1',
  });
  if (code !== 0) throw new Error(`bench:saga exited with ${code}`);
  const peak = JSON.parse(readFileSync('reports/bench-saga-peak.json', 'utf8')) as {
    confirmedPerSecond: number;
  };
  return peak.confirmedPerSecond;
}

/**
 * The scenario at one multiple: fans arriving evenly at multiple × peak, and half as many seats again as fans, so
 * seats remain to the end (a sellout would end the overload before it is measured).
 */
export function overloadScenario(
  base: Scenario,
  multiple: number,
  peak: number,
  scale: number,
  admissionControl: 'auto' | 'off',
): Scenario {
  const window = Math.max(5, Math.round(BASE_WINDOW_SECONDS * scale));
  // The peak counts confirmed bookings; a tenth of the fans are declined, so they arrive at peak / 0.9 per 1x.
  const perSecond = (multiple * peak) / (1 - base.payment.initial.failureRate);
  const users = Math.max(1, Math.round(perSecond * window));
  const section = base.event.sections[0]!;
  return {
    ...base,
    name: `overload-${multiple}x${admissionControl === 'off' ? '-uncontrolled' : ''}`,
    users,
    arrival: { ...base.arrival, overSeconds: window, shape: 'uniform' },
    event: {
      ...base.event,
      sections: [{ ...section, rows: Math.ceil((users * 1.5) / section.seatsPerRow) }],
    },
    queue: { ...base.queue!, admissionControl },
    thresholds: { ...base.thresholds, maxReserveToConfirmP99Ms: (base.event.holdSeconds * 1000) / 2 },
  };
}

/** Each run's goodput as a share of the 1× run's; null when the family ran no 1×. */
export function withGoodputVsOne(rows: readonly Row[]): Row[] {
  const one = rows.find((r) => r.multiple === 1);
  return rows.map((r) => ({
    ...r,
    goodputVsOne: one === undefined ? null : r.goodput / Math.max(0.001, one.goodput),
  }));
}

/** Goodput must not fall as load rises: every multiple above 1 at GOODPUT_FLOOR of the 1× figure or more. */
export function goodputVerdicts(rows: readonly Row[]): string[] {
  return rows
    .filter((r) => r.multiple > 1 && r.goodputVsOne !== null && r.goodputVsOne < GOODPUT_FLOOR)
    .map(
      (r) =>
        `goodput at ${r.multiple}x is ${(r.goodputVsOne! * 100).toFixed(0)}% of 1x (floor ${GOODPUT_FLOOR * 100}%)`,
    );
}

function table(rows: Row[], peak: number): string {
  const head =
    '| offered | fans/s | fans | confirmed | goodput/s | vs 1x | fans served | wasted captures | expired | p99 ms | 503 shed | result |';
  const line = '|---|---|---|---|---|---|---|---|---|---|---|---|';
  const body = rows.map(
    (r) =>
      `| ${r.multiple}x of ${peak.toFixed(0)}/s | ${r.offeredPerSecond.toFixed(0)} | ${r.fans} | ${r.confirmed} | ${r.goodput.toFixed(1)} | ${r.goodputVsOne === null ? '—' : `${(r.goodputVsOne * 100).toFixed(0)}%`} | ${(r.fansServed * 100).toFixed(1)}% | ${r.wastedCaptures} | ${r.expired} | ${r.p99Ms} | ${r.shed503} | ${r.passed ? 'PASS' : 'FAIL'} |`,
  );
  return [head, line, ...body].join('\n');
}

function html(rows: Row[], peak: number, failures: string[], markdown: string): string {
  const points = (f: (r: Row) => number) => rows.map((r) => [r.multiple, f(r)] as [number, number]);
  const chart = lineChart(
    'goodput',
    'Goodput against offered load',
    'confirmed bookings/s',
    [
      { name: 'goodput (confirmed/s)', color: '#2a7', points: points((r) => r.goodput) },
      { name: 'offered (fans/s)', color: '#999', points: points((r) => r.offeredPerSecond) },
    ],
    `<p>x axis: offered load as a multiple of the saga's peak, ${peak.toFixed(1)} confirmed/s.</p>`,
    [],
    { name: 'offered load (× peak)', suffix: '×' },
  );
  const rowsHtml = rows
    .map(
      (r) =>
        `<tr><td>${r.multiple}×</td><td>${r.offeredPerSecond.toFixed(0)}</td><td>${r.confirmed}</td><td>${r.goodput.toFixed(1)}</td><td>${r.goodputVsOne === null ? '—' : `${(r.goodputVsOne * 100).toFixed(0)}%`}</td><td>${(r.fansServed * 100).toFixed(1)}%</td><td>${r.wastedCaptures}</td><td>${r.p99Ms}</td><td>${r.shed503}</td><td>${r.passed ? 'PASS' : 'FAIL'}</td><td><a href="${escapeHtml(r.report.replace(/\.json$/, '.html'))}">report</a></td></tr>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ReserveX overload family</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}</style></head>
<body><h1>Overload family</h1><p>Peak measured by bench:saga: ${peak.toFixed(1)} confirmed bookings/s. Result: <strong>${failures.length === 0 ? 'PASS' : 'FAIL'}</strong></p>
${failures.length > 0 ? `<ul>${failures.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>` : ''}
<table><tr><th>offered</th><th>fans/s</th><th>confirmed</th><th>goodput/s</th><th>vs 1×</th><th>fans served</th><th>wasted captures</th><th>p99 ms</th><th>503 shed</th><th>result</th><th></th></tr>${rowsHtml}</table>
${chart}
<pre>${escapeHtml(markdown)}</pre></body></html>\n`;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      multiples: { type: 'string' },
      scale: { type: 'string' },
      peak: { type: 'string' },
      seed: { type: 'string' },
      'admission-control': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const multiples = (values.multiples ?? '1,2,4').split(',').map(Number);
  if (multiples.some((m) => !Number.isFinite(m) || m <= 0))
    throw new UsageError(`--multiples takes positive numbers like 1,2,4, got "${values.multiples}"`);
  const scale = Number(values.scale ?? 1);
  if (!Number.isFinite(scale) || scale <= 0)
    throw new UsageError(`--scale must be positive, got "${values.scale}"`);
  const control = values['admission-control'] ?? 'auto';
  if (control !== 'auto' && control !== 'off')
    throw new UsageError(`--admission-control takes auto or off, got "${control}"`);
  const seed = Number(values.seed ?? Math.floor(Math.random() * 2 ** 31));
  if (!Number.isInteger(seed) || seed <= 0) throw new UsageError(`--seed must be a positive integer`);
  let peak: number;
  if (values.peak !== undefined) {
    peak = Number(values.peak);
    if (!Number.isFinite(peak) || peak <= 0)
      throw new UsageError(`--peak must be positive, got "${values.peak}"`);
    console.log(`overload: peak given as ${peak}/s (not measured in this run)`);
  } else {
    peak = await measurePeak();
  }
  console.log(
    `overload: peak ${peak.toFixed(1)} confirmed/s; multiples ${multiples.join(', ')}; seed ${seed}`,
  );
  const base = loadScenario('overload');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = resolve('reports');
  mkdirSync(dir, { recursive: true });
  const measured: Row[] = [];
  const cli = resolve(import.meta.dirname, '..', 'cli.ts');
  for (const multiple of multiples) {
    const scenario = overloadScenario(base, multiple, peak, scale, control);
    const file = join(dir, `${scenario.name}-${stamp}.scenario.json`);
    const json = join(dir, `${scenario.name}-${stamp}.json`);
    writeFileSync(file, `${JSON.stringify(scenario, null, 2)}\n`);
    console.log(`\noverload: ${multiple}x: ${scenario.users} fans over ${scenario.arrival.overSeconds} s`);
    const code = await run(cli, [
      file,
      '--seed',
      String(seed),
      '--json',
      json,
      '--html',
      json.replace(/\.json$/, '.html'),
    ]);
    const report = JSON.parse(readFileSync(json, 'utf8')) as RunReport;
    measured.push({
      multiple,
      offeredPerSecond: scenario.users / scenario.arrival.overSeconds,
      fans: scenario.users,
      confirmed: report.collapse.confirmed,
      goodput: report.confirmedPerSecond,
      goodputVsOne: null,
      fansServed: report.collapse.fansServed,
      wastedCaptures: report.collapse.wastedCaptures,
      p99Ms: report.reserveToConfirmMs.p99,
      shed503: report.fans.shed503,
      expired: report.facts.expiredHolds ?? 0,
      passed: code === 0 && report.passed,
      report: json,
    });
  }
  const rows = withGoodputVsOne(measured);
  const failures = [
    ...rows.filter((r) => !r.passed).map((r) => `the ${r.multiple}x run failed (see ${r.report})`),
    ...goodputVerdicts(rows),
  ];
  const markdown = table(rows, peak);
  console.log(
    `\nReserveX overload family (peak ${peak.toFixed(1)} confirmed/s, seed ${seed})\n\n${markdown}\n`,
  );
  for (const f of failures) console.log(`  FAIL  ${f}`);
  console.log(`\n  result: ${failures.length === 0 ? 'PASS' : 'FAIL'}`);
  const out = join(dir, `overload-family-${stamp}`);
  writeFileSync(
    `${out}.json`,
    `${JSON.stringify({ peak, seed, scale, control, rows, failures }, null, 2)}\n`,
  );
  writeFileSync(`${out}.html`, html(rows, peak, failures, markdown));
  console.log(`overload: reports: ${out}.json and ${out}.html`);
  return failures.length === 0 ? 0 : 1;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(`overload: ${error.message}`);
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}
