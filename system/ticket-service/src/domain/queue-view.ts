export type QueueState = 'waiting' | 'admitted' | 'expired';

export interface QueueView {
  state: QueueState;
  /** People ahead, plus one: 1 means next. Null while the pre-queue waits for its shuffle at the opening. */
  position: number | null;
  etaSeconds: number | null;
}

/**
 * Where a user stands, from their ticket number and the serving counter everyone shares: no per-user lookup.
 * Ticket 0 is the pre-queue before its shuffle; a negative ticket was dropped for silence. The position can
 * overstate the wait slightly, since people ahead who left are skipped when their turn comes.
 */
export function queueView(
  ticket: number,
  served: number,
  admitted: boolean,
  measuredRatePerSecond: number | undefined,
): QueueView {
  if (ticket < 0) return { state: 'expired', position: null, etaSeconds: null };
  if (ticket === 0) return { state: 'waiting', position: null, etaSeconds: null };
  if (ticket <= served) return { state: admitted ? 'admitted' : 'expired', position: 0, etaSeconds: 0 };
  const position = ticket - served;
  const etaSeconds =
    measuredRatePerSecond !== undefined && measuredRatePerSecond > 0
      ? Math.ceil(position / measuredRatePerSecond)
      : null;
  return { state: 'waiting', position, etaSeconds };
}

/**
 * How long a poller should wait before asking again: every second near the front, every 20 s far back. The cap
 * stays well under the heartbeat grace (30 s by default), so a fan who polls as told, with jitter, is never taken
 * for gone; at 30 s the flash-sale scenario showed fans dropped that way. Polls
 * are most of a waiting room's traffic (16,000 fans at a 10 s cap made 150,000 requests in a 2-minute sale),
 * and someone 20 minutes out gains nothing from hearing it every few seconds.
 */
export function pollAfterSeconds(view: QueueView): number {
  if (view.state !== 'waiting') return 1;
  if (view.etaSeconds === null) return 2;
  return Math.max(1, Math.min(20, Math.round(view.etaSeconds / 4)));
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
  lastTicket: number;
  active: number;
  /** Measured admissions (tickets served) per second, smoothed. */
  rate: number | undefined;
  at: number;
}

/**
 * What the waiting room needs of the admission ticker (workers/admission-ticker.ts implements it): the queue's
 * progress, pushed to listeners on each tick, and the heartbeats it collects.
 */
export interface AdmissionProgress {
  progress(eventId: string): QueueProgress | undefined;
  onProgress(listener: (eventId: string, progress: QueueProgress) => void): () => void;
  /** Records that a fan is still there; sent to Redis with the next tick. */
  seen(eventId: string, userId: string): void;
  /** Ticks this queue from now on (the ticker forgets idle queues). */
  watch(eventId: string): void;
  observeWait(eventId: string, seconds: number): void;
}
