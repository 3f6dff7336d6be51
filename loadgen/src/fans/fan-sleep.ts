import { DueQueue } from './due-queue.ts';

/**
 * A fan's pause (a retry's backoff, a look at the map again, the next poll of a booking), behind one shared timer.
 * At a million fans, hundreds of thousands wait to retry a join at once; a `timers/promises` sleep is a Timeout
 * object with its async ids, a timer list per distinct delay and a promise, each living the seconds of the wait,
 * long enough to be copied by young collections and often promoted. Here a sleeper is a promise and its resolve, in
 * DueQueue's arrays: 300,000 fans pausing 0.5–10 s for 30 s in one process took 11.5 CPU s this way and 15.8–19.0
 * with `timers/promises` (side by side, twice each; docs/waiting-room.md, million run 8).
 */
const sleepers = new DueQueue<() => void>((wake) => wake());

/** Resolves once `ms` milliseconds have passed (at once for none), with every other fan's pauses in time order. */
export function fanSleep(ms: number): Promise<void> {
  return new Promise((wake) => sleepers.add(Date.now() + Math.max(0, ms), wake));
}
