import { useEffect, useState } from 'preact/hooks';
import { request } from '../api.ts';
import { describeError, withRetry } from '../errors.ts';
import { money, useI18n } from '../i18n.ts';
import type { Reservation } from '../types.ts';
import { Notice } from '../ui/notice.tsx';
import { failureReason } from './reservation-outcome.tsx';

const REFRESH_MS = 3000;

/** The fan's bookings, newest first, with cancellation; a cancelled paid booking shows its refund once made. */
export function MyTickets() {
  const { t, lang } = useI18n();
  const [list, setList] = useState<Reservation[]>();
  const [error, setError] = useState<string>();
  const [cancelling, setCancelling] = useState<string>();
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let stopped = false;
    const read = () =>
      withRetry(() => request<Reservation[]>('ticket', '/api/reservations?limit=100'))
        .then((l) => !stopped && setList(l))
        .catch((err) => !stopped && setError(describeError(err, t)));
    void read();
    // While something is still moving (a payment, a refund), keep the list fresh.
    const timer = setInterval(() => void read(), REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [t, reload]);

  const cancel = async (r: Reservation) => {
    if (!confirm(t('tickets.confirmCancel'))) return;
    setCancelling(r.id);
    setError(undefined);
    try {
      await withRetry(() => request('ticket', `/api/reservations/${r.id}`, { method: 'DELETE' }));
      setReload((n) => n + 1);
    } catch (err) {
      setError(describeError(err, t));
    } finally {
      setCancelling(undefined);
    }
  };

  return (
    <section aria-labelledby="tickets-title">
      <h1 id="tickets-title">{t('tickets.title')}</h1>
      {error !== undefined && <Notice kind="error">{error}</Notice>}
      {list?.length === 0 && <p>{t('tickets.none')}</p>}
      <ul class="ticket-list">
        {list?.map((r) => (
          <li key={r.id} class="card" data-testid="ticket" data-status={r.status}>
            <p class={`badge badge-${r.status.toLowerCase()}`}>{t(`status.${r.status}`)}</p>
            <p>{r.seats.map((s) => `${s.section} ${s.row}-${s.number}`).join(', ')}</p>
            <p>{money(r.amount, r.currency, lang)}</p>
            {r.reason === 'payment-failed' && <p>{t('outcome.failed', { reason: failureReason(r, t) })}</p>}
            {r.status === 'EXPIRED' && <p>{t('outcome.expired')}</p>}
            {r.reason === 'user-cancelled' && r.confirmedAt !== undefined && (
              <p data-testid="refund">
                {r.refundedAt !== undefined
                  ? t('outcome.refunded', { at: new Date(r.refundedAt).toLocaleString(lang) })
                  : t('outcome.refundPending')}
              </p>
            )}
            {(r.status === 'PENDING' || r.status === 'CONFIRMED') && (
              <button type="button" onClick={() => void cancel(r)} disabled={cancelling === r.id}>
                {cancelling === r.id ? t('tickets.cancelling') : t('tickets.cancel')}
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
