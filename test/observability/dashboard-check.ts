import { z } from 'zod';

/**
 * The dashboards are JSON in Grafana's dashboard file format, which the control room (web/) and the scenario report
 * read; ReserveX runs no Grafana. 39 is the version of that format they are all written at.
 */
export const DASHBOARD_SCHEMA_VERSION = 39;

/** The one Prometheus datasource every panel and query names. */
export const DATASOURCE_UID = 'prometheus';

const datasource = z.strictObject({ type: z.literal('prometheus'), uid: z.string().min(1) });

/** The subset of the dashboard file format these dashboards use, as strict as the format is. */
export const dashboardSchema = z.object({
  uid: z.string().regex(/^[a-zA-Z0-9_-]{1,40}$/),
  title: z.string().min(1),
  schemaVersion: z.literal(DASHBOARD_SCHEMA_VERSION),
  editable: z.boolean(),
  graphTooltip: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  time: z.object({ from: z.string(), to: z.string() }),
  refresh: z.string(),
  templating: z.object({ list: z.array(z.unknown()) }),
  annotations: z.object({ list: z.array(z.unknown()) }),
  panels: z
    .array(
      z.object({
        id: z.number().int().positive(),
        type: z.enum(['timeseries', 'stat', 'gauge', 'bargauge', 'table', 'heatmap', 'text']),
        title: z.string().min(1),
        datasource,
        gridPos: z
          .object({
            x: z.number().int().min(0).max(23),
            y: z.number().int().min(0),
            w: z.number().int().min(1).max(24),
            h: z.number().int().min(1),
          })
          .refine((g) => g.x + g.w <= 24, 'a panel must fit in the 24-column grid'),
        targets: z
          .array(
            z.object({
              refId: z.string().regex(/^[A-Z]$/),
              expr: z.string().min(1),
              datasource,
            }),
          )
          .min(1),
      }),
    )
    .min(1)
    .refine((ps) => new Set(ps.map((p) => p.id)).size === ps.length, 'panel ids must be unique'),
});

export type Dashboard = z.infer<typeof dashboardSchema>;

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'le',
  'inf',
  'nan',
]);

/** The metric names a PromQL expression reads: not functions, label names, label values or keywords. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = stripped.slice(m.index + m[0].length).trimStart();
    if (after.startsWith('(')) continue;
    if (PROMQL_WORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** Every series name a Prometheus text exposition can produce, histogram and summary parts included. */
export function exposedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(`${name}${s}`);
  }
  for (const m of exposition.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)) names.add(m[1]!);
  return names;
}

/** Series Prometheus makes itself for every scrape target. */
export const PROMETHEUS_SYNTHETIC = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'];

/** Each panel query that reads a metric nobody exposes: a panel that would stay empty forever. */
export function unknownMetrics(dashboard: Dashboard, exposed: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const panel of dashboard.panels)
    for (const target of panel.targets)
      for (const name of metricNames(target.expr))
        if (!exposed.has(name))
          problems.push(`${dashboard.uid} / "${panel.title}" / ${target.refId}: ${name}`);
  return problems;
}
