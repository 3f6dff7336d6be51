import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, request } from '../api.ts';
import { describeError, withRetry } from '../errors.ts';
import { duration, useI18n } from '../i18n.ts';
import { openStream } from '../sse.ts';
import type { QueueStatus } from '../types.ts';
import { Notice } from '../ui/notice.tsx';

/** How often screen readers hear the place in line: every change would talk over everything else. */
const ANNOUNCE_EVERY_MS = 20_000;

/**
 * The waiting room: join, then the place and ETA pushed over SSE until the turn comes. The place is the fan's on
 * the server, so a reload finds it again (GET /queue/me) instead of joining at the back.
 */
export function QueuePanel(props: { eventId: string; onAdmitted: (status: QueueStatus) => void }) {
  const { t, lang } = useI18n();
  const [status, setStatus] = useState<QueueStatus>();
  const [joined, setJoined] = useState<boolean>();
  const [connected, setConnected] = useState(true);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [announcement, setAnnouncement] = useState('');
  // Bumped by each join, so a fan who joins again after their turn lapsed gets a fresh stream.
  const [generation, setGeneration] = useState(0);
  const lastAnnounced = useRef(0);
  const wasPaused = useRef(false);
  const base = `/api/events/${props.eventId}/queue`;

  // Where the fan already stands, if anywhere: the reload case.
  useEffect(() => {
    withRetry(() => request<QueueStatus>('ticket', `${base}/me`))
      .then((s) => {
        setStatus(s);
        setJoined(true);
      })
      .catch((err) => {
        if (err instanceof ApiError && err.status === 404) setJoined(false);
        else setError(describeError(err, t));
      });
  }, [base, t]);

  useEffect(() => {
    if (joined !== true) return;
    return openStream(`${base}/stream`, {
      onEvent: (event, data) => {
        const next = data as QueueStatus;
        if (event === 'admitted' && next.admissionToken !== undefined) {
          setStatus(next);
          props.onAdmitted(next);
        } else if (event === 'expired') setStatus({ state: 'expired', position: null, etaSeconds: null });
        else setStatus((prev) => ({ ...prev, ...next }));
        setConnected(true);
      },
      onConnection: setConnected,
      onFatal: (err) => {
        if (err.status === 404) setJoined(false);
        else setError(describeError(err, t));
      },
    });
  }, [joined, generation, base]);

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

  const join = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const s = await withRetry(() => request<QueueStatus>('ticket', base, { method: 'POST' }));
      setStatus(s);
      setJoined(true);
      setGeneration((g) => g + 1);
    } catch (err) {
      setError(describeError(err, t));
    } finally {
      setBusy(false);
    }
  };

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
      {joined === false && (
        <button type="button" class="primary" onClick={() => void join()} disabled={busy}>
          {busy ? t('queue.joining') : t('queue.join')}
        </button>
      )}
      {joined === true && status !== undefined && status.state === 'waiting' && (
        <div class="queue-place">
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
          <p class="muted">{connected ? `● ${t('queue.live')}` : t('queue.reconnecting')}</p>
        </div>
      )}
      {status?.state === 'expired' && (
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
