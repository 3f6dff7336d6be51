import { isTransientError } from './transient-errors.ts';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 10_000 };

/**
 * Capped exponential backoff with "equal jitter": half of the step is fixed and half is random, so a crowd of
 * retriers spreads out while none of them retries hot. `attempt` counts from 1.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random = Math.random,
): number {
  const step = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(step / 2 + random() * (step / 2));
}

/** Resolves after `ms`, or at once when the signal aborts; never rejects. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs `work` until it succeeds, backing off between transient failures, for as long as it takes or until
 * `signal` aborts: for start-up steps that need a dependency (migrations, topics), so a service started while
 * PostgreSQL or Kafka is away waits for it instead of exiting. Any other error is thrown at once.
 */
export async function retryUntilDone<T>(
  work: () => Promise<T>,
  options: {
    what: string;
    onFailure: (error: unknown, attempt: number) => void;
    signal?: AbortSignal;
    policy?: BackoffPolicy;
    retryIf?: (error: unknown) => boolean;
  },
): Promise<T> {
  const retryIf = options.retryIf ?? isTransientError;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (options.signal?.aborted || !retryIf(error)) throw error;
      options.onFailure(error, attempt);
      await pause(backoffDelay(attempt, options.policy ?? { initialMs: 250, maxMs: 10_000 }), options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
}
