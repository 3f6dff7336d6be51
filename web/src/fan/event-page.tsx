import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, request } from '../api.ts';
import { describeError, withRetry } from '../errors.ts';
import { money, useI18n } from '../i18n.ts';
import { currentSession } from '../session.ts';
import type { EventSummary, QueueStatus, Reservation, Seat } from '../types.ts';
import { Countdown } from '../ui/countdown.tsx';
import { Notice } from '../ui/notice.tsx';
import { QueuePanel } from './queue-panel.tsx';
import { keptPlaces } from './queue-place.ts';
import { ReservationOutcome } from './reservation-outcome.tsx';
import { SeatGrid, useSeatMap } from './seat-map.tsx';

const HEARTBEAT_MS = 10_000;
const bookingKey = (eventId: string) => `reservex.booking.${eventId}`;

/** One event: the waiting room if it has one, then the seat map, then the booking's outcome. */
export function EventPage(props: { eventId: string }) {
  const { t } = useI18n();
  const [event, setEvent] = useState<EventSummary>();
  const [error, setError] = useState<string>();
  const [admission, setAdmission] = useState<QueueStatus>();
  const [booking, setBooking] = useState<string | null>(sessionStorage.getItem(bookingKey(props.eventId)));

  useEffect(() => {
    withRetry(() => request<EventSummary>('ticket', `/api/events/${props.eventId}`))
      .then(setEvent)
      .catch((err) => setError(describeError(err, t)));
  }, [props.eventId, t]);

  // An admitted fan shows signs of life while choosing, and picks up a fresh token if the old one nears its end.
  const queued = event?.queue != null;
  useEffect(() => {
    if (!queued || admission === undefined || booking !== null) return;
    const timer = setInterval(() => {
      // The kept ticket names the place, so asking costs the origin no lookup.
      const place = keptPlaces().read(currentSession()?.userId ?? '', props.eventId);
      request<QueueStatus>('ticket', `/api/events/${props.eventId}/queue/me`, {
        headers: place === undefined ? {} : { 'x-queue-ticket': place.queueTicket },
      })
        .then((s) => setAdmission(s.state === 'admitted' ? s : undefined))
        .catch(() => {});
    }, HEARTBEAT_MS);
    return () => clearInterval(timer);
  }, [queued, admission === undefined, booking, props.eventId]);

  const booked = (id: string) => {
    sessionStorage.setItem(bookingKey(props.eventId), id);
    setBooking(id);
  };
  const again = () => {
    sessionStorage.removeItem(bookingKey(props.eventId));
    setBooking(null);
  };

  if (error !== undefined) return <Notice kind="error">{error}</Notice>;
  if (event === undefined) return <p role="status">…</p>;
  return (
    <>
      <p>
        <a href="#/">← {t('event.back')}</a>
      </p>
      <h1>{event.name}</h1>
      <p class="muted">{event.venue}</p>
      {booking !== null ? (
        <ReservationOutcome id={booking} onAgain={again} />
      ) : queued && admission === undefined ? (
        <QueuePanel
          eventId={event.id}
          onAdmitted={(status) => {
            // Real-user timing: how long the seat map takes to show once the turn comes (loadgen/src/fans/browser-fans.ts).
            performance.mark('reservex:admitted');
            setAdmission(status);
          }}
        />
      ) : (
        <SeatChooser
          event={event}
          admission={admission}
          onBooked={booked}
          onAdmissionLost={() => setAdmission(undefined)}
        />
      )}
    </>
  );
}

function SeatChooser(props: {
  event: EventSummary;
  admission: QueueStatus | undefined;
  onBooked: (reservationId: string) => void;
  onAdmissionLost: () => void;
}) {
  const { t, lang } = useI18n();
  const { event } = props;
  const [refresh, setRefresh] = useState(0);
  const seats = useSeatMap(event.id, refresh);
  const sections = useMemo(() => [...new Set(seats?.map((s) => s.section))], [seats]);
  const [section, setSection] = useState<string>();
  const [selected, setSelected] = useState<Map<string, Seat>>(new Map());
  const [message, setMessage] = useState<{ kind: 'error' | 'info'; text: string }>();
  const [busy, setBusy] = useState(false);
  const shown = section ?? sections[0];
  // The same array while the map is unchanged: the grid's rows redraw only when their seats change.
  const sectionSeats = useMemo(() => seats?.filter((s) => s.section === shown) ?? [], [seats, shown]);

  const loaded = seats !== undefined;
  useEffect(() => {
    if (loaded) performance.mark('reservex:seat-map-ready');
  }, [loaded]);

  // A seat someone else took since it was chosen is chosen no longer.
  useEffect(() => {
    if (seats === undefined) return;
    const taken = seats.filter((s) => selected.has(s.id) && s.status !== 'AVAILABLE');
    if (taken.length === 0) return;
    const next = new Map(selected);
    for (const s of taken) next.delete(s.id);
    setSelected(next);
  }, [seats]);

  const toggle = (seat: Seat) => {
    const next = new Map(selected);
    if (next.has(seat.id)) next.delete(seat.id);
    else if (next.size >= event.maxSeatsPerUser) {
      setMessage({ kind: 'info', text: t('seats.limitReached', { limit: event.maxSeatsPerUser }) });
      return;
    } else next.set(seat.id, seat);
    setMessage(undefined);
    setSelected(next);
  };

  const book = async () => {
    setBusy(true);
    setMessage(undefined);
    // One key per attempt: a retry after a lost answer is the same booking, never a second one.
    const key = crypto.randomUUID();
    try {
      const r = await withRetry(
        () =>
          request<Reservation>('ticket', '/api/reservations', {
            method: 'POST',
            body: { eventId: event.id, seatIds: [...selected.keys()] },
            headers: {
              'idempotency-key': key,
              ...(props.admission?.admissionToken === undefined
                ? {}
                : { 'x-admission-token': props.admission.admissionToken }),
            },
          }),
        (seconds) => setMessage({ kind: 'info', text: t('error.busy', { seconds }) }),
      );
      props.onBooked(r.id);
    } catch (err) {
      setMessage({ kind: 'error', text: describeError(err, t) });
      if (err instanceof ApiError && err.kind === 'seat-unavailable') setRefresh((n) => n + 1);
      if (err instanceof ApiError && err.status === 403 && err.kind.startsWith('admission'))
        props.onAdmissionLost();
    } finally {
      setBusy(false);
    }
  };

  const total = [...selected.values()].reduce((sum, s) => sum + s.price, 0);
  const lapses = props.admission?.admissionLapsesAt;
  return (
    <section class="card" aria-labelledby="seats-title">
      <h2 id="seats-title">{t('seats.title')}</h2>
      {props.admission !== undefined && <Notice kind="success">{t('queue.admitted')}</Notice>}
      {lapses !== undefined && <Countdown until={lapses} message="seats.admissionEnds" />}
      <p>{t('seats.limit', { limit: event.maxSeatsPerUser })}</p>
      {seats === undefined ? (
        <p role="status">…</p>
      ) : (
        <>
          <div class="section-tabs" role="radiogroup" aria-label={t('seats.section')}>
            {sections.map((name) => {
              const left = seats.filter((s) => s.section === name && s.status === 'AVAILABLE').length;
              return (
                <label key={name} class={`section-tab ${name === shown ? 'active' : ''}`}>
                  <input
                    type="radio"
                    name="section"
                    value={name}
                    checked={name === shown}
                    onChange={() => setSection(name)}
                  />
                  {name} <span class="muted">({left})</span>
                </label>
              );
            })}
          </div>
          <ul class="legend" aria-hidden="true">
            <li>
              <span class="seat seat-available" /> {t('seats.legendAvailable')}
            </li>
            <li>
              <span class="seat seat-held" /> {t('seats.legendHeld')}
            </li>
            <li>
              <span class="seat seat-sold" /> {t('seats.legendSold')}
            </li>
            <li>
              <span class="seat seat-mine" /> {t('seats.legendMine')}
            </li>
          </ul>
          <SeatGrid
            seats={sectionSeats}
            currency={event.currency}
            selected={new Set(selected.keys())}
            onToggle={toggle}
          />
        </>
      )}
      {message !== undefined && <Notice kind={message.kind}>{message.text}</Notice>}
      <div class="actions sticky">
        <p role="status" data-testid="selection">
          {t('seats.selected', { count: selected.size, amount: money(total, event.currency, lang) })}
        </p>
        <button
          type="button"
          class="primary"
          disabled={busy || selected.size === 0}
          onClick={() => void book()}
        >
          {busy ? t('seats.booking') : t('seats.book')}
        </button>
      </div>
    </section>
  );
}
