import { useEffect, useRef, useState } from 'preact/hooks';
import { request } from '../api.ts';
import { useI18n } from '../i18n.ts';
import type { QueueState } from '../types.ts';
import { LineChart, type Series } from './line-chart.tsx';
import { ADMIT_PER_SECOND, MAX_ACTIVE, NumberField } from './number-field.tsx';
import { useChange } from './use-change.tsx';

const POLL_MS = 1000;
const KEEP_POINTS = 180;

interface Sample {
  at: number;
  waiting: number;
  inside: number;
  admitted: number;
}

/** The waiting room live (read every second), and the dial: rate, cap, pause, drain, the controller. */
export function QueueControls(props: { eventId: string }) {
  const { t } = useI18n();
  const [state, setState] = useState<QueueState>();
  const [samples, setSamples] = useState<Sample[]>([]);
  const { run, notice } = useChange();
  const previous = useRef<{ at: number; admitted: number } | undefined>(undefined);
  const path = `/api/events/${props.eventId}/queue`;

  useEffect(() => {
    setSamples([]);
    previous.current = undefined;
    let stopped = false;
    const read = async () => {
      try {
        const s = await request<QueueState>('ticket', path);
        if (stopped) return;
        setState(s);
        const at = Date.now() / 1000;
        const admittedTotal = Number(s.admittedTotal ?? 0);
        const prev = previous.current;
        previous.current = { at, admitted: admittedTotal };
        if (prev !== undefined)
          setSamples((list) =>
            [
              ...list,
              {
                at,
                waiting: s.waiting,
                inside: Number(s.active ?? 0),
                admitted: Math.max(0, (admittedTotal - prev.admitted) / (at - prev.at)),
              },
            ].slice(-KEEP_POINTS),
          );
      } catch {
        // The next read tries again; the numbers on screen stay as they were.
      }
    };
    void read();
    const timer = setInterval(() => void read(), POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [path]);

  const change = async (body: Record<string, unknown>) => {
    const changed = await run(() => request<QueueState>('ticket', path, { method: 'PATCH', body }));
    if (changed !== undefined) setState(changed);
  };

  const apply = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    void change({ admitPerSecond: Number(f.get('admitPerSecond')), maxActive: Number(f.get('maxActive')) });
  };

  if (state === undefined) return <p role="status">…</p>;
  const ctl = state.admissionControlState;
  const series: Series[] = [
    { label: t('control.waiting'), values: samples.map((s) => s.waiting) },
    { label: t('control.inside'), values: samples.map((s) => s.inside) },
    { label: t('control.admittedPerSecond'), values: samples.map((s) => s.admitted) },
  ];
  return (
    <div class="queue-controls">
      <h3>{t('control.queueLive')}</h3>
      <dl class="stats" data-testid="queue-stats">
        <div>
          <dt>{t('control.waiting')}</dt>
          <dd data-testid="stat-waiting">{state.waiting.toLocaleString()}</dd>
        </div>
        <div>
          <dt>{t('control.inside')}</dt>
          <dd data-testid="stat-inside">{Number(state.active ?? 0).toLocaleString()}</dd>
        </div>
        <div>
          <dt>{t('control.admittedPerSecond')}</dt>
          <dd data-testid="stat-admitted">{state.measuredAdmitPerSecond ?? '–'}</dd>
        </div>
        <div>
          <dt>
            {state.paused === true
              ? t('control.paused')
              : state.closed === true
                ? t('control.draining')
                : t('control.running')}
          </dt>
          <dd data-testid="stat-rate">{String(state.admitPerSecond ?? '')}/s</dd>
        </div>
      </dl>
      <LineChart
        title={t('control.queueLive')}
        times={samples.map((s) => s.at)}
        series={series}
        height={160}
      />
      {ctl !== null && state.admissionControl !== 'off' && (
        <p class="muted" data-testid="controller-state">
          {t('control.controllerState', {
            rate: ctl.rate,
            throughput: ctl.throughput,
            backlog: ctl.backlog,
            target: ctl.targetBacklog,
            limitedBy: ctl.limitedBy,
          })}
        </p>
      )}
      <form class="form-grid" onSubmit={apply} key={`${state.admitPerSecond}-${state.maxActive}`}>
        <NumberField
          label="control.admitPerSecond"
          name="admitPerSecond"
          {...ADMIT_PER_SECOND}
          value={state.admitPerSecond ?? 1}
        />
        <NumberField
          label="control.maxActive"
          name="maxActive"
          {...MAX_ACTIVE}
          value={state.maxActive ?? 1}
        />
        <button type="submit" class="primary">
          {t('control.apply')}
        </button>
      </form>
      <div class="actions">
        <button
          type="button"
          aria-pressed={state.paused === true}
          onClick={() => void change({ paused: state.paused !== true })}
        >
          {state.paused === true ? t('control.resume') : t('control.pause')}
        </button>
        <button
          type="button"
          aria-pressed={state.closed === true}
          onClick={() => void change({ drain: state.closed !== true })}
        >
          {state.closed === true ? t('control.undrain') : t('control.drain')}
        </button>
        <label>
          {t('control.controller')}
          <select
            value={state.admissionControl ?? 'auto'}
            onChange={(e) => void change({ admissionControl: e.currentTarget.value })}
          >
            <option value="auto">{t('control.controllerOn')}</option>
            <option value="off">{t('control.controllerOff')}</option>
          </select>
        </label>
      </div>
      {notice}
    </div>
  );
}
