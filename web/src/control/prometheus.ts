import { config } from '../config.ts';

export interface PanelTarget {
  expr: string;
  legendFormat?: string;
}

export interface Panel {
  type: string;
  title: string;
  targets: PanelTarget[];
  fieldConfig?: { defaults?: { unit?: string } };
}

interface MatrixResult {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/** The dashboard format's legend template: `{{stage}}` becomes the series' stage label. */
export function legendOf(target: PanelTarget, metric: Record<string, string>): string {
  if (target.legendFormat === undefined || target.legendFormat === '')
    return Object.keys(metric).length === 0 ? target.expr : JSON.stringify(metric);
  return target.legendFormat.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => metric[name] ?? '');
}

async function promGet<T>(path: string, params: Record<string, string>): Promise<T> {
  const res = await fetch(`${config().prometheus}${path}?${new URLSearchParams(params)}`);
  const body = (await res.json().catch(() => ({}))) as { status?: string; data?: T; error?: string };
  if (!res.ok || body.status !== 'success' || body.data === undefined)
    throw new Error(body.error ?? `Prometheus answered ${res.status}`);
  return body.data;
}

/** Every target of a panel over the window, on one time axis (Unix seconds) with gaps as null. */
export async function queryPanel(
  panel: Panel,
  windowSeconds: number,
): Promise<{ times: number[]; series: Array<{ label: string; values: Array<number | null> }> }> {
  const step = Math.max(2, Math.round(windowSeconds / 240));
  const end = Math.floor(Date.now() / 1000 / step) * step;
  const start = end - windowSeconds;
  const times: number[] = [];
  for (let t = start; t <= end; t += step) times.push(t);
  const series: Array<{ label: string; values: Array<number | null> }> = [];
  for (const target of panel.targets) {
    const data = await promGet<{ result: MatrixResult[] }>('/api/v1/query_range', {
      query: target.expr,
      start: String(start),
      end: String(end),
      step: String(step),
    });
    for (const result of data.result) {
      const byTime = new Map(result.values.map(([at, v]) => [Math.round(at), Number(v)]));
      series.push({
        label: legendOf(target, result.metric),
        values: times.map((at) => {
          const v = byTime.get(at);
          return v === undefined || !Number.isFinite(v) ? null : v;
        }),
      });
    }
  }
  return { times, series };
}
