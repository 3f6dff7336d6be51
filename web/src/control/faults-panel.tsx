import { useEffect, useState } from 'preact/hooks';
import { request } from '../api.ts';
import { type MessageKey, useI18n } from '../i18n.ts';
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
              <label key={rate}>
                {t(`control.${rate}` as MessageKey)}
                <input
                  name={rate}
                  type="number"
                  min={0}
                  max={1}
                  step={0.01}
                  defaultValue={String(profile[rate])}
                />
              </label>
            ))}
            <label>
              {t('control.latencyMin')}
              <input
                name="latencyMin"
                type="number"
                min={0}
                max={60000}
                defaultValue={String(profile.latencyMs.min)}
              />
            </label>
            <label>
              {t('control.latencyMax')}
              <input
                name="latencyMax"
                type="number"
                min={0}
                max={60000}
                defaultValue={String(profile.latencyMs.max)}
              />
            </label>
            <button type="submit" class="primary">
              {t('control.apply')}
            </button>
          </form>
          <form class="form-grid" onSubmit={outage}>
            <label>
              {t('control.outage')}
              <input name="outageSeconds" type="number" min={0} max={3600} defaultValue="30" />
            </label>
            <button type="submit">{t('control.startOutage')}</button>
          </form>
          {profile.outageUntil !== null && <p class="muted">outage until {profile.outageUntil}</p>}
        </>
      )}
      {notice}
    </section>
  );
}
