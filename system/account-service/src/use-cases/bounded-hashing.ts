import { ServiceUnavailableProblem } from '@reservex/kit';

/**
 * Password hashing is the expensive part of sign-up and sign-in (scrypt at N=2^17 takes about 128 MiB and 0.3 s).
 * At most `concurrency` run at once and `queue` wait; a request beyond that is answered 503 at once instead of
 * joining a queue that an anonymous flood could make endless, which would starve every sign-in behind it.
 */
export function boundedHashing(concurrency: number, queue: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async function hashing<T>(work: () => Promise<T>): Promise<T> {
    if (active < concurrency) active++;
    else if (waiting.length < queue) await new Promise<void>((resolve) => waiting.push(resolve));
    else
      throw new ServiceUnavailableProblem(
        1,
        'Too many sign-ins and sign-ups at once; try again in a moment',
        'busy',
      );
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter, so `active` counts it still.
      const next = waiting.shift();
      if (next === undefined) active--;
      else next();
    }
  };
}

export type BoundedHashing = ReturnType<typeof boundedHashing>;
