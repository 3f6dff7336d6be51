import { useState } from 'preact/hooks';
import { request } from '../api.ts';
import { useI18n } from '../i18n.ts';
import { ADMIT_PER_SECOND, MAX_ACTIVE, NumberField } from './number-field.tsx';
import { useChange } from './use-change.tsx';

const minutesFromNow = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

/** "A, 10, 20, 110000" per line: a section's name, rows, seats per row and price. */
export function parseSections(
  text: string,
): Array<{ name: string; rows: number; seatsPerRow: number; price: number }> {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [name = '', rows = '', seatsPerRow = '', price = ''] = line.split(',').map((p) => p.trim());
      return { name, rows: Number(rows), seatsPerRow: Number(seatsPerRow), price: Number(price) };
    });
}

export function CreateEvent(props: { onCreated: (id: string) => void }) {
  const { t } = useI18n();
  const [withQueue, setWithQueue] = useState(true);
  const { run, notice } = useChange();
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const num = (name: string) => Number(f.get(name));
    const salesOpenAt = minutesFromNow(num('salesOpen'));
    const body = {
      name: String(f.get('name')),
      venue: String(f.get('venue')),
      startsAt: minutesFromNow(num('startsAt')),
      salesOpenAt,
      holdSeconds: num('holdSeconds'),
      maxSeatsPerUser: num('maxSeats'),
      sections: parseSections(String(f.get('sections'))),
      ...(withQueue
        ? {
            queue: {
              opensAt: salesOpenAt,
              admitPerSecond: num('admitPerSecond'),
              maxActive: num('maxActive'),
            },
          }
        : {}),
    };
    setBusy(true);
    const created = await run(
      () => request<{ id: string; name: string }>('ticket', '/api/events', { method: 'POST', body }),
      (event) => t('control.created', { name: event.name }),
    );
    setBusy(false);
    if (created !== undefined) props.onCreated(created.id);
  };

  return (
    <section class="card" aria-labelledby="create-title">
      <h2 id="create-title">{t('control.create')}</h2>
      <form onSubmit={(e) => void submit(e)} class="form-grid">
        <label>
          {t('control.name')}
          <input name="name" required maxLength={200} defaultValue="ReserveX Live — Seoul" />
        </label>
        <label>
          {t('control.venue')}
          <input name="venue" required maxLength={200} defaultValue="Jamsil Olympic Stadium" />
        </label>
        <NumberField label="control.startsAt" name="startsAt" min={0} value={60 * 24 * 7} />
        <NumberField label="control.salesOpen" name="salesOpen" min={0} value={0} />
        <NumberField label="control.holdSeconds" name="holdSeconds" min={1} max={3600} value={300} />
        <NumberField label="control.maxSeats" name="maxSeats" min={1} max={20} value={4} />
        <label class="wide">
          {t('control.sections')}
          <textarea
            name="sections"
            rows={3}
            required
            defaultValue={'VIP, 5, 20, 220000\nR, 10, 30, 165000\nS, 10, 30, 110000'}
          />
        </label>
        <label class="check wide">
          <input
            type="checkbox"
            checked={withQueue}
            onChange={(e) => setWithQueue(e.currentTarget.checked)}
          />
          {t('control.withQueue')}
        </label>
        {withQueue && (
          <>
            <NumberField
              label="control.admitPerSecond"
              name="admitPerSecond"
              {...ADMIT_PER_SECOND}
              value={50}
            />
            <NumberField label="control.maxActive" name="maxActive" {...MAX_ACTIVE} value={200} />
          </>
        )}
        {notice}
        <button type="submit" class="primary" disabled={busy}>
          {t('control.createButton')}
        </button>
      </form>
    </section>
  );
}
