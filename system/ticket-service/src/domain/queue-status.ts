import { type Lottery, placeOf } from './queue-lottery.ts';

export { type Lottery, placeOf } from './queue-lottery.ts';

import { pollAfterSeconds, type QueueView, queueView } from './queue-view.ts';

/**
 * What every waiting fan needs, the same for all of them: one event-wide answer that an edge cache serves
 * (GET /api/events/:id/queue/status). A fan's own place comes from their signed queue ticket (their join number)
 * and this; a fan far from their turn asks nothing of the origin.
 */
export interface QueueStatus {
  eventId: string;
  opensAt: string;
  salesOpenAt: string;
  /** The pre-queue, sealed at the opening: its size and the lottery's key. Null before the opening. */
  lottery: Lottery | null;
  /** Every place up to this has had its turn. */
  served: number;
  /** The last join number handed out: how long the queue is. */
  lastNumber: number;
  /** The admission rate a wait is estimated at (admissions per second); null while there is none (paused). */
  etaPerSecond: number | null;
  /** The fastest admissions can go (the operator's ceiling, or the measured rate if faster): poll hints keep to it. */
  fastestPerSecond: number;
  paused: boolean;
  /** Draining: no new joins, the queued are still served. */
  closed: boolean;
  soldOut: boolean;
  /** How far ahead of their turn, at the fastest rate, a fan starts confirming to the origin that they are there. */
  frontWindowSeconds: number;
  /** When the origin wrote this answer. */
  at: string;
}

/**
 * The front window: the next two minutes of admissions at the fastest rate admissions can reach. Fans inside it
 * say they are still there (a poll of their own place, or a stream), so a fan who left is skipped at their turn;
 * fans behind it send nothing to the origin at all. Two minutes is longer than the longest poll hint a fan can be
 * given at that distance (a quarter of the wait, and never longer than the wait at the fastest rate), so nobody
 * walks into the window after their turn.
 */
export const FRONT_WINDOW_SECONDS = 120;

/** What a waiting fan makes of the shared status: where they stand, when to look again, and where to ask. */
export interface FanQueueView extends QueueView {
  /** Their place in line; null before the opening for the pre-queue. */
  place: number | null;
  /** Seconds until they should look again. */
  pollAfterSeconds: number;
  /**
   * Whom to ask next: the origin (their own place, which also says they are still there) once inside the front
   * window or once their turn may have come; the edge's shared status otherwise.
   */
  ask: 'origin' | 'edge';
}

/** A fan's view, from their join number and the shared status: the same function on their page and the server. */
export function fanQueueView(status: QueueStatus, number: number, now = Date.now()): FanQueueView {
  const place = placeOf(number, status.lottery ?? undefined) ?? null;
  if (place === null) {
    // The pre-queue learns its places at the opening: asking before then tells nothing new.
    const untilOpening = Math.max(1, Math.ceil((Date.parse(status.salesOpenAt) - now) / 1000));
    return {
      state: 'waiting',
      position: null,
      etaSeconds: null,
      place,
      pollAfterSeconds: Math.min(untilOpening, 300),
      ask: 'edge',
    };
  }
  if (place <= status.served)
    return { state: 'waiting', position: 0, etaSeconds: 0, place, pollAfterSeconds: 1, ask: 'origin' };
  const view = queueView(place, status.served, false, status.etaPerSecond ?? undefined);
  const position = view.position ?? 0;
  const fastest = Math.max(1, status.fastestPerSecond);
  const inWindow = position / fastest <= status.frontWindowSeconds;
  return {
    ...view,
    place,
    pollAfterSeconds: pollAfterSeconds(view, fastest),
    ask: inWindow ? 'origin' : 'edge',
  };
}
