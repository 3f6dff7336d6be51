import { DueQueue } from './due-queue.ts';

/**
 * A fan's pause (a retry's backoff, a look at the map again, the next poll of a booking), behind one shared timer.
 * At a million fans, hundreds of thousands wait to retry a join at once; a `timers/promises` sleep is a Timeout
 * object with its async ids, a timer list per distinct delay and a promise, each living the seconds of the wait:
 * long enough to outlive a young collection and be copied into the old generation, where only a full collection
 * frees it. Here a sleeper is a promise and its resolve, in DueQueue's arrays.
 */
const sleepers = new DueQueue<() => void>((wake) => wake());

/** Resolves once `ms` milliseconds have passed (at once for none), with every other fan's pauses in time order. */
export function fanSleep(ms: number): Promise<void> {
  return new Promise((wake) => sleepers.add(Date.now() + Math.max(0, ms), wake));
}
