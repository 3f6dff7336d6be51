import { ApiError } from './api.ts';
import type { MessageKey, Translate } from './i18n.ts';

const BY_KIND: Partial<Record<string, MessageKey>> = {
  'seat-unavailable': 'error.seat-unavailable',
  'seat-limit': 'error.seat-limit',
  'sales-not-open': 'error.sales-not-open',
  'sales-closed': 'error.sales-closed',
  'queue-not-open': 'error.queue-not-open',
  'queue-closed': 'error.queue-closed',
  'not-cancellable': 'error.not-cancellable',
  'event-started': 'error.event-started',
  'email-taken': 'error.email-taken',
  'invalid-credentials': 'error.credentials',
};

/** What went wrong, in words a fan can act on: each answer the API can give becomes a message with a next step. */
export function describeError(error: unknown, t: Translate): string {
  if (!(error instanceof ApiError))
    return t('error.other', { detail: String((error as Error)?.message ?? error) });
  const known = BY_KIND[error.kind];
  if (known !== undefined) return t(known);
  if (error.status === 0) return t('error.network');
  if (error.status === 401) return t('error.signIn');
  if (error.status === 403)
    return error.kind.startsWith('admission') ? t('error.admission') : t('error.forbidden');
  if (error.status === 429) return t('error.rate-limited', { seconds: error.retryAfterSeconds ?? 5 });
  if (error.status === 503) return t('error.busyAction', { seconds: error.retryAfterSeconds ?? 2 });
  const fields = error.errors
    .map((e) => `${e.pointer ?? ''} ${e.detail ?? ''}`.trim())
    .filter((e) => e !== '')
    .join('; ');
  return t('error.other', { detail: fields === '' ? error.message : `${error.message} (${fields})` });
}

/**
 * A call that is safe to repeat, retried while the API sheds load or the network is away, as Retry-After says. A
 * queue join gives more tries: under a herd ticket-service turns joins away on purpose, for longer the busier it is.
 */
export async function withRetry<T>(
  call: () => Promise<T>,
  onWait?: (seconds: number) => void,
  retries = 8,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      const transient = error instanceof ApiError && (error.status === 503 || error.status === 0);
      if (!transient || attempt >= retries) throw error;
      const seconds = Math.min(60, error.retryAfterSeconds ?? 2 ** Math.min(attempt, 4));
      onWait?.(seconds);
      await new Promise((r) => setTimeout(r, seconds * 1000 * (0.8 + Math.random() * 0.4)));
    }
  }
}
