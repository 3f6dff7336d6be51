import { useEffect, useState } from 'preact/hooks';
import { problemOf, rawRequest } from '../api.ts';
import { describeError } from '../errors.ts';
import { MESSAGES, type MessageKey, money, type Translate, useI18n } from '../i18n.ts';
import type { Reservation } from '../types.ts';
import { Countdown } from '../ui/countdown.tsx';
import { Notice } from '../ui/notice.tsx';

/** Reads the reservation until the saga ends it, as often as its Retry-After says. */
export function useReservation(id: string): { reservation?: Reservation; error?: unknown } {
  const [reservation, setReservation] = useState<Reservation>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const read = async () => {
      let wait = 2000;
      try {
        const res = await rawRequest('ticket', `/api/reservations/${id}`);
        if (res.ok) {
          const r = (await res.json()) as Reservation;
          if (stopped) return;
          setReservation(r);
          setError(undefined);
          // PENDING is still moving, and so is a paid booking cancelled until its refund is made.
          const refundDue =
            r.reason === 'user-cancelled' && r.confirmedAt !== undefined && r.refundedAt === undefined;
          const settled = r.status !== 'PENDING' && !refundDue;
          if (settled) return;
          wait = Number(res.headers.get('retry-after') ?? 2) * 1000;
        } else {
          const problem = await problemOf(res);
          if (!stopped) setError(problem);
          if (problem.status === 404) return;
          wait = (problem.retryAfterSeconds ?? 2) * 1000;
        }
      } catch (err) {
        if (!stopped) setError(err);
      }
      if (!stopped) timer = setTimeout(() => void read(), wait);
    };
    void read();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [id]);
  return { reservation, error };
}

export function failureReason(r: Reservation, t: Translate): string {
  const key = `reason.${r.paymentFailure ?? 'unknown'}`;
  return key in MESSAGES.en ? t(key as MessageKey) : t('reason.unknown');
}

/** The hold countdown while the saga charges, then the outcome in plain words. */
export function ReservationOutcome(props: { id: string; onAgain: () => void }) {
  const { t, lang } = useI18n();
  const { reservation: r, error } = useReservation(props.id);
  if (r === undefined)
    return error === undefined ? (
      <p role="status">{t('seats.booking')}</p>
    ) : (
      <Notice kind="error">{describeError(error, t)}</Notice>
    );
  const seats = r.seats.map((s) => `${s.section} ${s.row}-${s.number}`).join(', ');
  return (
    <section class="card" aria-labelledby="outcome-title" data-testid="outcome" data-status={r.status}>
      <h2 id="outcome-title">{r.status === 'PENDING' ? t('hold.title') : t(`status.${r.status}`)}</h2>
      <p>
        {seats} · {money(r.amount, r.currency, lang)}
      </p>
      {r.status === 'PENDING' && (
        <>
          <p role="status">{t('hold.paying')}</p>
          <Countdown until={r.expiresAt} message="hold.countdown" testId="hold-countdown" />
        </>
      )}
      {r.status === 'CONFIRMED' && <Notice kind="success">{t('outcome.confirmed')}</Notice>}
      {r.status === 'CANCELLED' && r.reason === 'payment-failed' && (
        <Notice kind="error" testId="compensated">
          {t('outcome.failed', { reason: failureReason(r, t) })}
        </Notice>
      )}
      {r.status === 'EXPIRED' && <Notice kind="info">{t('outcome.expired')}</Notice>}
      {r.status === 'CANCELLED' && r.reason === 'user-cancelled' && (
        <Notice kind="info">
          {t('outcome.cancelled')}{' '}
          {r.refundedAt !== undefined
            ? t('outcome.refunded', { at: new Date(r.refundedAt).toLocaleString(lang) })
            : r.confirmedAt !== undefined
              ? t('outcome.refundPending')
              : ''}
        </Notice>
      )}
      {r.status !== 'PENDING' && (
        <div class="actions">
          {r.status !== 'CONFIRMED' && (
            <button type="button" class="primary" onClick={props.onAgain}>
              {t('outcome.again')}
            </button>
          )}
          <a class="button" href="#/tickets">
            {t('outcome.tickets')}
          </a>
        </div>
      )}
    </section>
  );
}
