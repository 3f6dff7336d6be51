// Types only: fans' pages import this file, and the lottery itself needs node:crypto.
import type { Lottery } from './queue-lottery.ts';

export type { Lottery } from './queue-lottery.ts';

import { MAX_POLL_SECONDS, pollAfterSeconds, type QueueView, queueView } from './queue-view.ts';

/**
 * What every waiting fan needs, the same for all of them: one event-wide answer that an edge cache serves
 * (GET /api/events/:id/queue/status). A fan's own place comes from their signed queue ticket (their join number)
 * and this; a fan far from their turn asks nothing of the origin.
 */
export interface QueueStatus {
  eventId: string;
  opensAt: string;
  salesOpenAt: string;
  /** The pre-queue, sealed at the opening: its size and the key its draws came from. Null before the opening. */
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

/** What a waiting fan keeps from their join: their number, and their draw in the pre-queue's lottery. */
export interface FanTicket {
  number: number;
  /** In [0, 1): the share of the pre-queue that will stand ahead of them (meaningful for pre-queue numbers). */
  draw: number;
}

/** What a waiting fan makes of the shared status: where they stand, when to look again, and where to ask. */
export interface FanQueueView extends QueueView {
  /** Their place in line, as they can tell it; for the pre-queue an estimate from their draw (the origin knows it). */
  place: number | null;
  /** True when `place` is the pre-queue's estimate from the fan's draw, not the exact place. */
  placeEstimated: boolean;
  /** Seconds until they should look again. */
  pollAfterSeconds: number;
  /**
   * Whom to ask next: the origin (their own place, which also says they are still there) once inside the front
   * window or once their turn may have come; the edge's shared status otherwise.
   */
  ask: 'origin' | 'edge';
}

/**
 * Where a draw puts a fan in a pre-queue of `size`: the expected place, one plus the share ahead of them. Off from
 * the exact place by about the square root of the pre-queue (±400 places in 700,000): seconds of a wait, and the
 * front window is minutes wide.
 */
export function estimatedPlace(draw: number, size: number): number {
  return Math.min(Math.max(1, size), 1 + Math.round(draw * Math.max(0, size - 1)));
}

/**
 * A fan's view, from their ticket and the shared status: the same function on their page and the server. Before the
 * opening a pre-queue fan's place is estimated from their draw and the pre-queue so far (it only grows, so the
 * estimate only moves back): those near the front look at the opening, and ask the origin from then on; the others
 * look again when the front window could reach them at the earliest, so the pre-queue's looks spread over the sale
 * instead of meeting at the opening.
 */
export function fanQueueView(status: QueueStatus, fan: FanTicket, now = Date.now()): FanQueueView {
  const fastest = Math.max(1, status.fastestPerSecond);
  // The soonest a fan this far back can be inside the front window: admissions never go faster than the fastest.
  const untilWindow = (position: number) => position / fastest - status.frontWindowSeconds;
  const sealed = status.lottery;
  if (sealed === null) {
    const place = estimatedPlace(fan.draw, status.lastNumber);
    const untilOpening = Math.max(1, Math.ceil((Date.parse(status.salesOpenAt) - now) / 1000));
    const inWindow = untilWindow(place) <= 0;
    return {
      state: 'waiting',
      position: place,
      etaSeconds: status.etaPerSecond === null ? null : Math.ceil(untilOpening + place / status.etaPerSecond),
      place,
      placeEstimated: true,
      // Near the front by the pre-queue so far: again in a quarter of the time to the opening (the pre-queue grows,
      // and most who were near the front at an early join are not by the opening), and at the opening itself.
      // Further back: when the front window could reach them at the earliest.
      pollAfterSeconds: inWindow
        ? Math.min(untilOpening, Math.max(15, Math.ceil(untilOpening / 4)))
        : Math.max(1, Math.min(MAX_POLL_SECONDS, Math.ceil(untilOpening + untilWindow(place)))),
      // The origin has nothing to tell before the seal; the join made every pre-queue fan due at the opening.
      ask: 'edge',
    };
  }
  const pre = fan.number <= sealed.size;
  const place = pre ? estimatedPlace(fan.draw, sealed.size) : fan.number;
  if (place <= status.served)
    return {
      state: 'waiting',
      position: 0,
      etaSeconds: 0,
      place,
      placeEstimated: pre,
      pollAfterSeconds: 1,
      ask: 'origin',
    };
  const view = queueView(place, status.served, false, status.etaPerSecond ?? undefined);
  const position = view.position ?? 0;
  const inWindow = untilWindow(position) <= 0;
  return {
    ...view,
    place,
    placeEstimated: pre,
    pollAfterSeconds: inWindow
      ? pollAfterSeconds(view, fastest)
      : Math.min(
          MAX_POLL_SECONDS,
          Math.max(pollAfterSeconds(view, fastest), Math.ceil(untilWindow(position))),
        ),
    ask: inWindow ? 'origin' : 'edge',
  };
}
