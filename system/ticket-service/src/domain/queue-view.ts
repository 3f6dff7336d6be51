import type { Lottery, LotteryOrder } from './queue-lottery.ts';

export type QueueState = 'waiting' | 'admitted' | 'expired';

export interface QueueView {
  state: QueueState;
  /** People ahead, plus one: 1 means next. Null while the pre-queue waits for its shuffle at the opening. */
  position: number | null;
  etaSeconds: number | null;
}

/**
 * Where a user stands, from their place in line and the serving counter everyone shares: no per-user lookup.
 * Place 0 is the pre-queue before the opening's lottery; a negative place was dropped for silence. The position can
 * overstate the wait slightly, since people ahead who left are skipped when their turn comes.
 */
export function queueView(
  place: number,
  served: number,
  admitted: boolean,
  measuredRatePerSecond: number | undefined,
): QueueView {
  if (place < 0) return { state: 'expired', position: null, etaSeconds: null };
  if (place === 0) return { state: 'waiting', position: null, etaSeconds: null };
  if (place <= served) return { state: admitted ? 'admitted' : 'expired', position: 0, etaSeconds: 0 };
  const position = place - served;
  const etaSeconds =
    measuredRatePerSecond !== undefined && measuredRatePerSecond > 0
      ? Math.ceil(position / measuredRatePerSecond)
      : null;
  return { state: 'waiting', position, etaSeconds };
}

/**
 * The longest a waiting fan is told to stay away: five minutes, for someone twenty minutes or more from the front.
 * Far-back fans are most of a stadium's crowd, so this cap sets most of its polls: at one minute, 200,000 waiting
 * fans asked 3,500 times a second, the whole of ticket-service's core, while 16 bookings a second went through
 * (docs/capacity.md). The price: a poller far back learns of a sellout only when it asks again, up to five
 * minutes later (a fan on the stream hears at once).
 */
export const MAX_POLL_SECONDS = 300;

/**
 * Within that, a fan is told to stay away no longer than it would take to admit everyone ahead at the fastest
 * rate admissions can reach, the operator's ceiling: the admission controller ramps within seconds, or drains a
 * backlog, faster than any ETA foresees, and a fan admitted while away is late by as much as they stayed away.
 * Never below 15 s for that reason. Raising the ceiling is the operator's move; a fan told to wait on the old one
 * is late by at most their hint, and the heartbeat grace counts from when they are due, so they keep their turn.
 */
const SHORT_POLL_CAP_SECONDS = 15;

/**
 * How long a poller should wait before asking again: a quarter of the expected wait, so the polls come closer as
 * the turn nears, from every second at the front to every five minutes far back. Polls are most of a waiting
 * room's traffic: with a 20 s cap, 200,000 fans would make 10,000 requests a second; with a quarter of the ETA
 * they grow with the logarithm of the crowd. A fan is due back when told, and the heartbeat grace counts from
 * then (waiting-room.ts records it), so a long wait is never taken for leaving.
 */
export function pollAfterSeconds(view: QueueView, fastestPerSecond: number): number {
  if (view.state !== 'waiting') return 1;
  // No rate to go by (a paused queue): often enough to see it resume, rarely enough for a stadium.
  if (view.etaSeconds === null) return 10;
  const cap = Math.min(
    MAX_POLL_SECONDS,
    Math.max(SHORT_POLL_CAP_SECONDS, Math.floor((view.position ?? 0) / fastestPerSecond)),
  );
  return Math.max(1, Math.min(cap, Math.round(view.etaSeconds / 4)));
}

/**
 * In how many milliseconds a fan told to come back in `pollAfterSeconds` is due, for the heartbeat grace to count
 * from: a quarter later than told. Clients jitter their polls, and a browser runs a background tab's timers late
 * (by up to a minute); a fan far back, told five minutes and back six minutes later, was dropped as gone when the
 * queue sped up and their turn came meanwhile (31 of 200,000 at stadium size). At the front the hint is a second
 * or two, so a fan who is really gone is still skipped within the grace.
 */
export function dueAfterMs(pollAfterSeconds: number): number {
  return pollAfterSeconds * 1250;
}

/** Exponentially weighted admission rate: recent ticks count most, so the ETA follows a live rate change. */
export function nextRate(
  previous: number | undefined,
  servedDelta: number,
  seconds: number,
  weight = 0.3,
): number {
  const sample = seconds > 0 ? servedDelta / seconds : 0;
  return previous === undefined ? sample : previous + weight * (sample - previous);
}

/** Where a queue stands after an admission step, as every instance learns it from its ticks. */
export interface QueueProgress {
  served: number;
  /** The last join number handed out. */
  lastNumber: number;
  /** The pre-queue's lottery, once sealed at the opening. */
  lottery?: Lottery;
  /** Its order, worked out by this instance once (every number's place): for the admission step and fans' places. */
  order?: LotteryOrder;
  active: number;
  /** Measured admissions (tickets served) per second, smoothed. */
  rate: number | undefined;
  at: number;
  /** The operator paused admissions: told to the waiting with their place. */
  paused?: boolean;
}

/**
 * What the waiting room needs of the admission ticker (workers/admission-ticker.ts implements it): the queue's
 * progress, pushed to listeners on each tick, and the heartbeats it collects.
 */
export interface AdmissionProgress {
  progress(eventId: string): QueueProgress | undefined;
  onProgress(listener: (eventId: string, progress: QueueProgress) => void): () => void;
  /**
   * Records that the fan holding join number `number` is still there, and due again in `expectMs`; sent to Redis
   * with the next tick.
   */
  seen(eventId: string, number: number, userId: string, expectMs?: number): void;
  /** Ticks this queue from now on (the ticker forgets idle queues). */
  watch(eventId: string): void;
  observeWait(eventId: string, seconds: number): void;
}
