import { backoffDelay } from '@reservex/kit';
import type { Recorder } from '../run/recorder.ts';
import { fanSleep } from './fan-sleep.ts';
import type { Reply } from './http-client.ts';

/** What a real client retries: no answer at all, a gateway error, "busy" (503) and "slow down" (429). */
export const RETRYABLE = new Set([0, 429, 502, 503, 504]);

export interface Patience {
  maxAttempts: number;
  /** No retry starts after this moment (the fan's own deadline). */
  until: number;
}

/**
 * How a fan's app calls the API: an answer that says "try again" is tried again, after the server's Retry-After
 * when it gives one, else after a capped exponential backoff with jitter, so a crowd that hit an outage together
 * does not come back together. Gives up after a bound; undefined then, and the recorder counts the fan.
 */
export async function patiently<T>(
  rec: Recorder,
  random: () => number,
  call: () => Promise<Reply<T>>,
  patience: Patience,
): Promise<Reply<T> | undefined> {
  for (let attempt = 1; ; attempt++) {
    const res = await call();
    if (!RETRYABLE.has(res.status)) return res;
    rec.sawTransientError(res.status);
    if (attempt >= patience.maxAttempts || Date.now() >= patience.until) return undefined;
    const retryAfter = Number(res.headers['retry-after']);
    const wait = Math.max(
      Number.isFinite(retryAfter) ? retryAfter * 1000 : 0,
      backoffDelay(attempt, { initialMs: 500, maxMs: 10_000 }, random),
    );
    rec.fanRetries++;
    await fanSleep(wait);
  }
}
