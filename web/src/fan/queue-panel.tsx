import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, request } from '../api.ts';
import { describeError, withRetry } from '../errors.ts';
import { duration, useI18n } from '../i18n.ts';
import { currentSession } from '../session.ts';
import { openStream } from '../sse.ts';
import type { QueueJoin, QueueStatus, SharedQueueStatus } from '../types.ts';
import { Notice } from '../ui/notice.tsx';
import { type KeptPlace, keptPlaces } from './queue-place.ts';
import { lookAgainMs, lookFromEdge, retryAfterFailureMs } from './queue-wait.ts';

/** How often screen readers hear the place in line: every change would talk over everything else. */
const ANNOUNCE_EVERY_MS = 20_000;
/** A join turned away under a herd is tried again as often as this before the page says so (errors.ts). */
const JOIN_RETRIES = 40;

const EXPIRED: QueueStatus = { state: 'expired', position: null, etaSeconds: null };

/**
 * The waiting room. The join answers a signed place (the queue ticket) that the page keeps, so a reload finds it
 * without asking anyone. Far from the front the page reads only the shared status, from the edge, and works the
 * place out itself; inside the front window it asks the origin for its own place, over SSE (or by polling where
 * the browser cannot stream), showing the ticket: that is how the fan says they are still there, and how the
 * admission arrives.
 */
export function QueuePanel(props: { eventId: string; onAdmitted: (status: QueueStatus) => void }) {
  const { t, lang } = useI18n();
  const userId = currentSession()?.userId ?? '';
  const [place, setPlace] = useState<KeptPlace | undefined>(() => keptPlaces().read(userId, props.eventId));
  // Whom to ask next. A kept place starts at the edge: its first reading says whether the fan is near the front.
  const [ask, setAsk] = useState<'edge' | 'origin'>('edge');
  const [polling, setPolling] = useState(false);
  const [status, setStatus] = useState<QueueStatus>();
  const [connected, setConnected] = useState(true);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [announcement, setAnnouncement] = useState('');
  const lastAnnounced = useRef(0);
  const wasPaused = useRef(false);
  // A join answers where the fan stands and when to look next; a kept place is looked up at once.
  const firstLookMs = useRef(0);
  const rejoined = useRef(false);
  const base = `/api/events/${props.eventId}/queue`;

  const join = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const joined = await withRetry(
        () => request<QueueJoin>('ticket', base, { method: 'POST' }),
        undefined,
        JOIN_RETRIES,
      );
      const { queueTicket, number, draw, ask: next, ...shown } = joined;
      const kept = { userId, eventId: props.eventId, queueTicket, number, draw };
      keptPlaces().keep(kept);
      firstLookMs.current = lookAgainMs(joined.pollAfterSeconds ?? 1);
      setStatus(shown);
      setAsk(next);
      setPlace(kept);
    } catch (err) {
      setError(describeError(err, t));
    } finally {
      setBusy(false);
    }
  };

  /** The origin no longer knows this place: not in line (404), or a ticket it will not take (403). */
  const isPlaceLost = (err: unknown): err is ApiError =>
    err instanceof ApiError && (err.status === 404 || err.kind === 'queue-ticket-invalid');
  const placeLost = (err: ApiError) => {
    keptPlaces().forget(props.eventId);
    setPlace(undefined);
    setStatus(undefined);
    setAsk('edge');
    // A ticket the origin refuses (its key changed): joining again gives the same place back, once.
    if (err.kind === 'queue-ticket-invalid' && !rejoined.current) {
      rejoined.current = true;
      void join();
    } else if (err.status !== 404) setError(describeError(err, t));
  };

  const told = (next: QueueStatus) => {
    if (next.state === 'admitted' && next.admissionToken !== undefined) {
      setStatus(next);
      props.onAdmitted(next);
      return true;
    }
    if (next.state === 'expired') {
      setStatus(EXPIRED);
      return true;
    }
    return false;
  };

  // Far from the front: the shared status, from the edge, when the last reading said to look again.
  useEffect(() => {
    if (place === undefined || ask !== 'edge') return;
    let stopped = false;
    let failures = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const look = async () => {
      try {
        const shared = await request<SharedQueueStatus>('edge', `${base}/status`);
        if (stopped) return;
        failures = 0;
        const seen = lookFromEdge(shared, place);
        setStatus(seen.shown);
        setConnected(true);
        if (seen.ask === 'origin') setAsk('origin');
        else timer = setTimeout(look, seen.nextLookMs);
      } catch {
        if (stopped) return;
        // The edge away, or answering for another origin: the place is still the fan's; look again later.
        setConnected(false);
        failures += 1;
        timer = setTimeout(look, retryAfterFailureMs(failures));
      }
    };
    timer = setTimeout(look, firstLookMs.current);
    firstLookMs.current = 0;
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [place, ask, base]);

  // Near the front: the fan's own place, pushed over SSE, with the ticket that says which place it is.
  useEffect(() => {
    if (place === undefined || ask !== 'origin' || polling) return;
    return openStream(
      `${base}/stream`,
      {
        // Each event carries its state: `position` events a waiting place, then `admitted` or `expired`.
        onEvent: (_event, data) => {
          const next = data as QueueStatus;
          if (!told(next)) setStatus((prev) => ({ ...prev, ...next }));
          setConnected(true);
        },
        onConnection: setConnected,
        onFatal: (err) => (isPlaceLost(err) ? placeLost(err) : setError(describeError(err, t))),
        onUnavailable: () => setPolling(true),
      },
      { 'x-queue-ticket': place.queueTicket },
    );
  }, [place, ask, polling, base]);

  // Near the front, in a browser that cannot stream: asking for the own place when told (Retry-After).
  useEffect(() => {
    if (place === undefined || ask !== 'origin' || !polling) return;
    let stopped = false;
    let failures = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const mine = await request<QueueStatus>('ticket', `${base}/me`, {
          headers: { 'x-queue-ticket': place.queueTicket },
        });
        if (stopped) return;
        failures = 0;
        setConnected(true);
        if (told(mine)) return;
        setStatus(mine);
        timer = setTimeout(poll, lookAgainMs(mine.pollAfterSeconds ?? 1));
      } catch (err) {
        if (stopped) return;
        if (isPlaceLost(err)) return placeLost(err);
        // Signed out, or refused for good: asking again would not change it.
        if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429)
          return setError(describeError(err, t));
        setConnected(false);
        failures += 1;
        timer = setTimeout(poll, retryAfterFailureMs(failures));
      }
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [place, ask, polling, base]);

  useEffect(() => {
    if (status === undefined) return;
    const now = Date.now();
    const paused = status.paused === true;
    const stateChange =
      status.state !== 'waiting' || status.position === null || paused !== wasPaused.current;
    wasPaused.current = paused;
    if (!stateChange && now - lastAnnounced.current < ANNOUNCE_EVERY_MS) return;
    lastAnnounced.current = now;
    setAnnouncement(paused && status.state === 'waiting' ? t('queue.paused') : describe(status));
  }, [status?.state, status?.position, status?.paused]);

  const eta = (s: QueueStatus) =>
    s.etaSeconds === null ? t('queue.etaUnknown') : t('queue.eta', { time: duration(s.etaSeconds, lang) });
  function describe(s: QueueStatus): string {
    if (s.state === 'expired') return t('queue.expired');
    if (s.state === 'admitted') return t('queue.admitted');
    if (s.position === null) return t('queue.preQueue');
    return t('queue.announce', { position: s.position.toLocaleString(), eta: eta(s) });
  }

  return (
    <section class="card" aria-labelledby="queue-title">
      <h2 id="queue-title">{t('queue.title')}</h2>
      <p>{t('queue.intro')}</p>
      {status?.state === 'waiting' && status.paused === true && (
        <Notice kind="info" testId="queue-paused">
          {t('queue.paused')}
        </Notice>
      )}
      {status?.soldOut === true && <Notice kind="info">{t('queue.soldOut')}</Notice>}
      {place === undefined && (
        <button type="button" class="primary" onClick={() => void join()} disabled={busy}>
          {busy ? t('queue.joining') : t('queue.join')}
        </button>
      )}
      {place !== undefined && status !== undefined && status.state === 'waiting' && (
        <div class="queue-place" data-asking={ask}>
          {status.position === null ? (
            <p>{t('queue.preQueue')}</p>
          ) : (
            <>
              <p class="label">{t('queue.position')}</p>
              <p class="position" data-testid="queue-position">
                {status.position.toLocaleString()}
              </p>
              <p data-testid="queue-eta">{eta(status)}</p>
            </>
          )}
          <p class="muted">
            {!connected
              ? t('queue.reconnecting')
              : ask === 'edge'
                ? t('queue.farBack')
                : `● ${t('queue.live')}`}
          </p>
        </div>
      )}
      {place !== undefined && status?.state === 'expired' && (
        <>
          <Notice kind="info">{t('queue.expired')}</Notice>
          <button type="button" class="primary" onClick={() => void join()} disabled={busy}>
            {t('queue.join')}
          </button>
        </>
      )}
      {error !== undefined && <Notice kind="error">{error}</Notice>}
      <p class="visually-hidden" aria-live="polite" data-testid="queue-announcement">
        {announcement}
      </p>
    </section>
  );
}
