import { useEffect, useState } from 'preact/hooks';
import { request } from '../api.ts';
import { describeError, withRetry } from '../errors.ts';
import { useI18n } from '../i18n.ts';
import type { EventSummary } from '../types.ts';
import { Notice } from '../ui/notice.tsx';

export function EventList() {
  const { t, lang } = useI18n();
  const [events, setEvents] = useState<EventSummary[]>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    withRetry(() => request<EventSummary[]>('ticket', '/api/events?limit=200'))
      .then(setEvents)
      .catch((err) => setError(describeError(err, t)));
  }, [t]);

  const when = (iso: string) =>
    new Date(iso).toLocaleString(lang === 'ko' ? 'ko-KR' : 'en-GB', {
      dateStyle: 'medium',
      timeStyle: 'short',
    });

  return (
    <section aria-labelledby="events-title">
      <h1 id="events-title">{t('events.title')}</h1>
      {error !== undefined && <Notice kind="error">{error}</Notice>}
      {events?.length === 0 && <p>{t('events.none')}</p>}
      <ul class="event-list">
        {events?.map((e) => {
          const soldOut = e.available === 0;
          return (
            <li key={e.id} class="card">
              <h2>{e.name}</h2>
              <p>
                {e.venue} · {when(e.startsAt)}
              </p>
              <p>{t('events.opens', { at: when(e.salesOpenAt) })}</p>
              <p>
                {soldOut
                  ? t('events.soldOut')
                  : t('events.seatsLeft', { left: e.available, capacity: e.capacity })}
              </p>
              {e.queue != null && <p class="muted">{t('events.queue')}</p>}
              <a
                class="button primary"
                href={`#/events/${e.id}`}
                aria-label={`${t('events.open')}: ${e.name}`}
              >
                {t('events.open')}
              </a>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
