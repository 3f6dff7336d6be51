import { type FanTicket, fanQueueView } from '@reservex/ticket-service/queue-status';
import type { QueueStatus, SharedQueueStatus } from '../types.ts';

/** What the page makes of one reading of the shared status: what to show, whom to ask next, and when. */
export interface EdgeLook {
  shown: QueueStatus;
  /** `origin` once inside the front window, or once the turn may have come: the fan then asks for their own place. */
  ask: 'edge' | 'origin';
  /** When to read the shared status again, while `ask` is still `edge`. */
  nextLookMs: number;
}

/**
 * A waiting fan's place from the shared status and their join number and draw, worked out on their page by
 * ticket-service's own function (fanQueueView), so a fan far back costs the origin nothing. Paused and sold out are
 * everyone's.
 */
export function lookFromEdge(
  shared: SharedQueueStatus,
  ticket: FanTicket,
  now = Date.now(),
  random = Math.random,
): EdgeLook {
  const view = fanQueueView(shared, ticket, now);
  return {
    shown: {
      state: view.state,
      position: view.position,
      etaSeconds: view.etaSeconds,
      place: view.place,
      pollAfterSeconds: view.pollAfterSeconds,
      paused: shared.paused,
      soldOut: shared.soldOut,
    },
    ask: view.ask,
    nextLookMs: lookAgainMs(view.pollAfterSeconds, random),
  };
}

/**
 * The delay before looking again when told `seconds`: up to a tenth sooner, never later. Fans told the same hint
 * at the same moment (a pause, a burst of joins) spread out, and none comes back after the hint: the hint is what
 * keeps a fan far back from walking into the front window after their turn, and the origin counts a fan near the
 * front as due back then.
 */
export function lookAgainMs(seconds: number, random = Math.random): number {
  return Math.round(seconds * 1000 * (1 - 0.1 * random()));
}

/** After a failed look (the network, an edge that does not answer): 2, 4, 8 … seconds, at most 30. */
export function retryAfterFailureMs(failures: number, random = Math.random): number {
  return lookAgainMs(Math.min(30, 2 ** Math.max(1, failures)), random);
}
