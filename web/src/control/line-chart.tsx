import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useI18n } from '../i18n.ts';

export interface Series {
  label: string;
  values: Array<number | null>;
}

const COLOURS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#ca8a04'];

/** A live time-series panel (uPlot: canvas, 50 kB, built for streaming data). `times` in Unix seconds. */
export function LineChart(props: {
  title: string;
  times: number[];
  series: Series[];
  height?: number;
  unit?: string;
}) {
  const { t } = useI18n();
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const shape = props.series.map((s) => s.label).join('|');

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const format = (v: number | null) =>
      v === null ? '–' : `${Number(v.toPrecision(3)).toLocaleString()}${props.unit ?? ''}`;
    plot.current = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height: props.height ?? 200,
        series: [
          {},
          ...props.series.map((s, i) => ({
            label: s.label,
            stroke: COLOURS[i % COLOURS.length],
            width: 2,
            value: (_u: uPlot, v: number | null) => format(v),
          })),
        ],
        axes: [{}, { size: 64, values: (_u: uPlot, ticks: number[]) => ticks.map((v) => format(v)) }],
        legend: { live: false },
      },
      [props.times, ...props.series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() =>
      plot.current?.setSize({ width: Math.max(200, el.clientWidth), height: props.height ?? 200 }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [shape, props.height, props.unit]);

  useEffect(() => {
    plot.current?.setData([props.times, ...props.series.map((s) => s.values)] as uPlot.AlignedData);
  }, [props.times, props.series]);

  const latest = props.series.map((s) => `${s.label}: ${s.values.at(-1) ?? '–'}`).join(', ');
  const empty = props.series.length === 0 || props.series.every((s) => s.values.every((v) => v === null));
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      {empty && <p class="muted no-data">{t('control.noData')}</p>}
      <div ref={box} role="img" aria-label={`${props.title}. ${latest}`} data-series={props.series.length} />
    </figure>
  );
}
