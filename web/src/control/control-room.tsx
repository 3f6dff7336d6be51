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

const EVENTS_EVERY_MS = 5000;

function latestSale(events: EventSummary[]): EventSummary | undefined {
  return events.reduce<EventSummary | undefined>(
    (latest, e) => (latest === undefined || e.salesOpenAt > latest.salesOpenAt ? e : latest),
    undefined,
  );
}

/** The operator's screen: an event's waiting room and dial, the payment faults, and the on-sale's live charts. */
export function ControlRoom(props: { session: Session; eventId?: string | undefined }) {
  const { t } = useI18n();
  const [events, setEvents] = useState<EventSummary[]>([]);
  // `#/control/<event id>` (the scenario runner prints it) opens on that event.
  const [picked, setPicked] = useState<string | undefined>(props.eventId);
  const [reload, setReload] = useState(0);

  // Read again every few seconds: a scenario run creates its event after the operator opened this page.
  useEffect(() => {
    const read = async () => {
      try {
        const list = await request<EventSummary[]>('ticket', '/api/events?limit=200');
        // The event asked for by the address, even if the list's first 200 leave it out.
        const wanted = props.eventId;
        if (wanted !== undefined && !list.some((e) => e.id === wanted))
          list.unshift(await request<EventSummary>('ticket', `/api/events/${wanted}`));
        setEvents(list);
      } catch {
        // Read again at the next turn.
      }
    };
    void read();
    const timer = setInterval(() => void read(), EVENTS_EVERY_MS);
    return () => clearInterval(timer);
  }, [reload, props.eventId]);

  // Until the operator picks one, the room follows the sale that opened last: the one happening now.
  const selected = picked ?? latestSale(events)?.id;

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
              onChange={(e) => setPicked(e.currentTarget.value)}
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
            setPicked(id);
            setReload((n) => n + 1);
          }}
        />
        <FaultsPanel />
      </div>
      <Charts />
    </>
  );
}
