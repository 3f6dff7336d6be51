import { useEffect, useState } from 'preact/hooks';
import { request } from '../api.ts';
import { useI18n } from '../i18n.ts';
import { isAdmin, type Session } from '../session.ts';
import type { EventSummary } from '../types.ts';
import { Notice } from '../ui/notice.tsx';
import { Charts } from './charts.tsx';
import { CreateEvent } from './create-event.tsx';
import { FaultsPanel } from './faults-panel.tsx';
import { QueueControls } from './queue-controls.tsx';

/** The operator's screen: an event's waiting room and dial, the payment faults, and the on-sale's live charts. */
export function ControlRoom(props: { session: Session }) {
  const { t } = useI18n();
  const [events, setEvents] = useState<EventSummary[]>([]);
  const [selected, setSelected] = useState<string>();
  const [reload, setReload] = useState(0);

  useEffect(() => {
    request<EventSummary[]>('ticket', '/api/events?limit=200')
      .then((list) => {
        setEvents(list);
        setSelected((s) => s ?? list[0]?.id);
      })
      .catch(() => {});
  }, [reload]);

  if (!isAdmin(props.session)) return <Notice kind="error">{t('control.needAdmin')}</Notice>;
  const event = events.find((e) => e.id === selected);
  return (
    <>
      <h1>{t('control.title')}</h1>
      <div class="control-grid">
        <section class="card" aria-labelledby="event-pick">
          <h2 id="event-pick">{t('control.event')}</h2>
          <label>
            {t('control.event')}
            <select
              value={selected}
              onChange={(e) => setSelected(e.currentTarget.value)}
              data-testid="event-select"
            >
              {events.map((e) => (
                <option key={e.id} value={e.id}>
                  {e.name}
                </option>
              ))}
            </select>
          </label>
          {event !== undefined &&
            (event.queue == null ? <p>{t('control.noQueue')}</p> : <QueueControls eventId={event.id} />)}
        </section>
        <CreateEvent
          onCreated={(id) => {
            setSelected(id);
            setReload((n) => n + 1);
          }}
        />
        <FaultsPanel />
      </div>
      <Charts />
    </>
  );
}
