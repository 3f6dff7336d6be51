import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ChartLine {
  name: string;
  points: Array<[number, number]>;
}

export interface PrometheusChart {
  id: string;
  title: string;
  unit: string;
  /** The PromQL behind each line, as the dashboard has it. */
  queries: string[];
  lines: ChartLine[];
  error?: string;
}

export type PrometheusSeries =
  | { source: string; dashboard: string; stepSeconds: number; charts: PrometheusChart[] }
  | { source: string; unavailable: string };

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string; legendFormat?: string }>;
  fieldConfig?: { defaults?: { unit?: string } };
}

interface RangeResult {
  status: 'success' | 'error';
  error?: string;
  data?: {
    resultType: string;
    result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
  };
}

const UNITS: Record<string, string> = { s: 'seconds', reqps: 'per second', ms: 'ms' };

/** The dashboard format's legend templating: `{{stage}}` becomes the series' stage label. */
export function legendName(format: string | undefined, metric: Record<string, string>): string {
  if (format === undefined || format === '') return JSON.stringify(metric);
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, label: string) => metric[label] ?? '');
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

async function queryRange(
  url: string,
  expr: string,
  fromMs: number,
  toMs: number,
  step: number,
): Promise<RangeResult> {
  const params = new URLSearchParams({
    query: expr,
    start: String(fromMs / 1000),
    end: String(toMs / 1000),
    step: String(step),
  });
  const res = await fetch(`${url}/api/v1/query_range?${params}`, { signal: AbortSignal.timeout(10_000) });
  return (await res.json()) as RangeResult;
}

/**
 * The time-series panels of a dashboard (dashboards/*.json), queried over one run's window with its own PromQL,
 * so the report's charts are what those panels showed during the run (the control room draws the Flash-sale
 * overview's the same way, live). Unavailable (with the reason) when Prometheus does not answer; the caller falls
 * back to the harness's own samples. A window that ends in the future is waited for.
 */
export async function prometheusSeries(options: {
  url: string;
  dashboardFile: string;
  fromMs: number;
  toMs: number;
}): Promise<PrometheusSeries> {
  const { url, fromMs, toMs } = options;
  try {
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
    if (!ready.ok) return { source: url, unavailable: `Prometheus at ${url} is not ready (${ready.status})` };
  } catch (error) {
    return { source: url, unavailable: `no Prometheus at ${url}: ${(error as Error).message}` };
  }
  if (toMs > Date.now()) await sleep(toMs - Date.now());
  const dashboard = JSON.parse(readFileSync(options.dashboardFile, 'utf8')) as {
    title: string;
    panels: Panel[];
  };
  // About 250 points per line at most, never finer than a second.
  const stepSeconds = Math.max(1, Math.ceil((toMs - fromMs) / 1000 / 250));
  const charts: PrometheusChart[] = [];
  for (const panel of dashboard.panels.filter((p) => p.type === 'timeseries')) {
    const chart: PrometheusChart = {
      id: `prom-${slug(panel.title)}`,
      title: panel.title,
      unit: UNITS[panel.fieldConfig?.defaults?.unit ?? ''] ?? 'value',
      queries: (panel.targets ?? []).map((t) => t.expr),
      lines: [],
    };
    for (const target of panel.targets ?? []) {
      const answer = await queryRange(url, target.expr, fromMs, toMs, stepSeconds);
      if (answer.status !== 'success' || answer.data === undefined) {
        chart.error = `${target.expr}: ${answer.error ?? 'no data'}`;
        continue;
      }
      for (const series of answer.data.result) {
        chart.lines.push({
          name: legendName(target.legendFormat, series.metric),
          // Seconds since the run started, the same axis as the harness's charts; gaps (NaN) are left out.
          points: series.values
            .map(([ts, v]): [number, number] => [Math.round(ts - fromMs / 1000), Number(v)])
            .filter(([, v]) => Number.isFinite(v)),
        });
      }
    }
    charts.push(chart);
  }
  return { source: url, dashboard: dashboard.title, stepSeconds, charts };
}
