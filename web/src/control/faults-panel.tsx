import { useEffect, useState } from 'preact/hooks';
import { request } from '../api.ts';
import { type MessageKey, useI18n } from '../i18n.ts';
import { type NumberBounds, NumberField } from './number-field.tsx';
import { useChange } from './use-change.tsx';

interface FaultProfile {
  failureRate: number;
  timeoutRate: number;
  timeoutAfterCaptureRate: number;
  slowRate: number;
  latencyMs: { min: number; max: number };
  outageUntil: string | null;
  [field: string]: unknown;
}

const RATES = ['failureRate', 'timeoutRate', 'timeoutAfterCaptureRate', 'slowRate'] as const;
const PATH = '/api/admin/payment-faults';
const LATENCY_MS: NumberBounds = { min: 0, max: 60_000 };

/** The payment provider's fault profile, through payment-service (which holds the provider's key). */
export function FaultsPanel() {
  const { t } = useI18n();
  const [profile, setProfile] = useState<FaultProfile>();
  const { run, fail, notice } = useChange();

  useEffect(() => {
    request<FaultProfile>('payment', PATH).then(setProfile).catch(fail);
  }, [t]);

  const put = async (body: unknown) => {
    const saved = await run(() => request<FaultProfile>('payment', PATH, { method: 'PUT', body }));
    if (saved !== undefined) setProfile(saved);
  };

  const save = (e: Event) => {
    e.preventDefault();
    if (profile === undefined) return;
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const { outageUntil: _outage, ...rest } = profile;
    void put({
      ...rest,
      ...Object.fromEntries(RATES.map((r) => [r, Number(f.get(r))])),
      latencyMs: { min: Number(f.get('latencyMin')), max: Number(f.get('latencyMax')) },
    });
  };

  const outage = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    void put({ outageSeconds: Number(f.get('outageSeconds')) });
  };

  return (
    <section class="card" aria-labelledby="faults-title">
      <h2 id="faults-title">{t('control.faults')}</h2>
      {profile !== undefined && (
        <>
          <form class="form-grid" onSubmit={save} key={JSON.stringify(profile)}>
            {RATES.map((rate) => (
              <NumberField
                key={rate}
                label={`control.${rate}` as MessageKey}
                name={rate}
                min={0}
                max={1}
                step={0.01}
                value={profile[rate]}
                required={false}
              />
            ))}
            <NumberField
              label="control.latencyMin"
              name="latencyMin"
              {...LATENCY_MS}
              value={profile.latencyMs.min}
              required={false}
            />
            <NumberField
              label="control.latencyMax"
              name="latencyMax"
              {...LATENCY_MS}
              value={profile.latencyMs.max}
              required={false}
            />
            <button type="submit" class="primary">
              {t('control.apply')}
            </button>
          </form>
          <form class="form-grid" onSubmit={outage}>
            <NumberField
              label="control.outage"
              name="outageSeconds"
              min={0}
              max={3600}
              value={30}
              required={false}
            />
            <button type="submit">{t('control.startOutage')}</button>
          </form>
          {profile.outageUntil !== null && <p class="muted">outage until {profile.outageUntil}</p>}
        </>
      )}
      {notice}
    </section>
  );
}
