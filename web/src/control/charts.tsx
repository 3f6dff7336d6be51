import { useEffect, useState } from 'preact/hooks';
import { useI18n } from '../i18n.ts';
import { Notice } from '../ui/notice.tsx';
import { DASHBOARDS, drawingOf } from './dashboards.ts';
import { LineChart } from './line-chart.tsx';
import { queryPanel } from './prometheus.ts';

const REFRESH_MS = 5000;
const WINDOWS = [
  { label: '5m', seconds: 300 },
  { label: '15m', seconds: 900 },
  { label: '1h', seconds: 3600 },
];
const UNITS: Record<string, string> = { reqps: '/s', s: ' s' };

type Result = Awaited<ReturnType<typeof queryPanel>>;

/** The chosen dashboard's own panels and PromQL (imported from dashboards/), drawn from Prometheus. */
export function Charts() {
  const { t } = useI18n();
  const [uid, setUid] = useState(DASHBOARDS[0]?.uid ?? '');
  const panels = (DASHBOARDS.find((d) => d.uid === uid) ?? DASHBOARDS[0])?.panels ?? [];
  const [windowSeconds, setWindowSeconds] = useState(300);
  const [results, setResults] = useState<Array<Result | undefined>>([]);
  const [down, setDown] = useState(false);

  useEffect(() => {
    let stopped = false;
    // Another dashboard's results must not be drawn under this one's panels while its first read is on its way.
    setResults([]);
    const read = async () => {
      const settled = await Promise.allSettled(
        panels.map((p) =>
          drawingOf(p) === 'query-only' ? Promise.resolve(undefined) : queryPanel(p, windowSeconds),
        ),
      );
      if (stopped) return;
      setDown(settled.every((s) => s.status === 'rejected'));
      setResults(settled.map((s) => (s.status === 'fulfilled' ? s.value : undefined)));
    };
    void read();
    const timer = setInterval(() => void read(), REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [uid, windowSeconds]);

  return (
    <section aria-labelledby="charts-title" class="charts">
      <h2 id="charts-title">{t('control.charts')}</h2>
      <p class="muted">{t('control.chartsHelp')}</p>
      <label>
        {t('control.dashboard')}{' '}
        <select value={uid} onChange={(e) => setUid(e.currentTarget.value)}>
          {DASHBOARDS.map((d) => (
            <option key={d.uid} value={d.uid}>
              {d.title}
            </option>
          ))}
        </select>
      </label>{' '}
      <label>
        {t('control.window')}{' '}
        <select value={windowSeconds} onChange={(e) => setWindowSeconds(Number(e.currentTarget.value))}>
          {WINDOWS.map((w) => (
            <option key={w.seconds} value={w.seconds}>
              {w.label}
            </option>
          ))}
        </select>
      </label>
      {down && <Notice kind="error">{t('control.noPrometheus')}</Notice>}
      <div class="panel-grid">
        {panels.map((panel, i) => {
          const result = results[i];
          const unit = UNITS[panel.fieldConfig?.defaults?.unit ?? ''] ?? '';
          if (drawingOf(panel) === 'query-only')
            return (
              <figure class="card" key={panel.title} data-testid="query-panel">
                <figcaption>{panel.title}</figcaption>
                <p class="muted">{t('control.notDrawn')}</p>
                {(panel.targets ?? []).map((target) => (
                  <pre key={target.expr}>
                    <code>{target.expr}</code>
                  </pre>
                ))}
              </figure>
            );
          if (panel.type === 'stat') {
            const last = result?.series[0]?.values.findLast((v) => v !== null);
            return (
              <figure class="stat card" key={panel.title} data-testid="stat-panel">
                <figcaption>{panel.title}</figcaption>
                <p class="stat-value">
                  {last === undefined || last === null ? '–' : `${Math.round(last * 10) / 10}${unit}`}
                </p>
              </figure>
            );
          }
          return (
            <div class="card" key={panel.title} data-testid="chart-panel">
              <LineChart
                title={panel.title}
                times={result?.times ?? []}
                series={result?.series ?? []}
                unit={unit}
              />
            </div>
          );
        })}
      </div>
    </section>
  );
}
