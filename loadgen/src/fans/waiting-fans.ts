import { inSpanContext, type Span } from '@reservex/kit';
import { fanQueueView, type QueueStatus as SharedStatus } from '@reservex/ticket-service/queue-status';
import type { Recorder } from '../run/recorder.ts';
import { DueQueue } from './due-queue.ts';
import type { HttpClient } from './http-client.ts';
import { type Patience, patiently } from './patient-request.ts';

/** An admission: its token, and the fan's queue ticket, which their page goes on showing while they book. */
export interface Admitted {
  token: string | undefined;
  ticket: string;
}

/** How a wait ended. */
export type Admission = Admitted | 'left' | 'sold-out' | 'failed' | 'gave-up';

interface QueueStatus {
  state: 'waiting' | 'admitted' | 'expired';
  soldOut?: boolean;
  admissionToken?: string;
}

/** What the waiting room needs of a fan: who they are, their dice, and the trace their polls belong to. */
export interface QueuedFan {
  auth: string;
  random: () => number;
  span: Span;
}

/**
 * What a fan in the queue keeps between two looks: no answer, no promise, no callback, no timer of its own. A
 * million fans wait here for minutes, so each byte counts a million times.
 */
interface WaitingFan<F> {
  fan: F;
  /** Their place, signed, as the join gave it: shown to the origin near the front. */
  ticket: string;
  /** Their join number and their draw in the pre-queue's lottery: with the shared status, their place. */
  number: number;
  draw: number;
  /** Whom they ask next: the edge's shared status far back, their own place near the front. */
  ask: 'edge' | 'origin';
  /**
   * When they joined, and when they give up and stop asking (the queue drops them when their turn comes), in ms
   * since the waiting room's start: small integers, kept in the record itself. An epoch time (or Infinity) would
   * make V8 box the field as a number object of its own, two more objects per fan for each full collection to mark.
   */
  joinedAt: number;
  leavesAt: number;
  /** A misbehaving fan's attempt to book past the queue, still under way. */
  trying: Promise<void> | undefined;
}

/**
 * Every fan in the waiting room, as a fan's page behaves: far from the front it reads the shared status from the
 * edge (a real HTTP client of the cache) when its last look said, and works out its place itself; inside the front
 * window it asks the origin for its own place, with its signed ticket, which also says it is still there; until
 * admitted, told of the sellout, dropped, gone, or out of time. All behind one timer (DueQueue).
 */
export function waitingFans<F extends QueuedFan>(o: {
  http: HttpClient;
  recorder: Recorder;
  /** The fan's own place: GET /api/events/:id/queue/me, at the origin. */
  url: string;
  /** The shared status, at the edge: GET /api/events/:id/queue/status. */
  statusUrl: string;
  deadline: number;
  /** Where each fan goes on from here, once, with how their wait ended; in the fan's trace. */
  waited: (fan: F, admission: Admission) => void;
}) {
  const { http, recorder: rec, deadline } = o;
  const epoch = Date.now();
  const sinceEpoch = () => Date.now() - epoch;
  /** Far enough ahead to be never, and still a small integer (2^30 ms: twelve days). */
  const NEVER = 2 ** 30 - 1;
  const patience: Patience = { maxAttempts: 10, until: deadline };
  const queue = new DueQueue<WaitingFan<F>>((waiting) =>
    inSpanContext(waiting.fan.span, () =>
      // Nothing awaits a poll but the fan: one that threw would leave them, and the run, waiting for ever.
      poll(waiting).catch((error: Error) => {
        rec.error(`queue poll: ${error.message}`);
        finish(waiting, 'failed');
      }),
    ),
  );

  /**
   * As the server says, with jitter, but never past the end of the run: a fan far back was told to wait long. An
   * answer without a readable Retry-After means a second, as a browser's app would guess.
   */
  const nextPoll = (waiting: WaitingFan<F>, retryAfterSeconds: number) => {
    const seconds = Number.isFinite(retryAfterSeconds) ? retryAfterSeconds : 1;
    const now = Date.now();
    const due = Math.min(now + Math.max(250, seconds * 1000 * (0.8 + waiting.fan.random() * 0.4)), deadline);
    // The time until the next look is time spent waiting, far back or near the front.
    if (waiting.ask === 'edge') rec.waitingFar.seconds += (due - now) / 1000;
    else rec.waitingNear.seconds += (due - now) / 1000;
    queue.add(due, waiting);
  };

  // Called from a poll, which the schedule already runs in the fan's span, so what follows carries it too.
  const goOn = (fan: F, admission: Admission) => {
    try {
      o.waited(fan, admission);
    } catch (error) {
      rec.error(`after the queue: ${(error as Error).message}`);
    }
  };

  const finish = ({ fan, trying }: WaitingFan<F>, admission: Admission) => {
    rec.waiting--;
    if (trying === undefined) goOn(fan, admission);
    else void trying.then(() => goOn(fan, admission));
  };

  /** Far back: the shared status from the edge, and the fan's own sums with it. */
  async function look(waiting: WaitingFan<F>): Promise<void> {
    const res = await patiently(rec, waiting.fan.random, () => http.get<SharedStatus>(o.statusUrl), patience);
    if (res === undefined) return finish(waiting, 'gave-up');
    rec.edgeLooked(String(res.headers['x-cache-status'] ?? ''));
    if (res.status !== 200) {
      rec.error(`queue status ${res.status}`);
      return nextPoll(waiting, 1);
    }
    if (res.body.soldOut) return finish(waiting, 'sold-out');
    if (sinceEpoch() > waiting.leavesAt) return finish(waiting, 'left');
    const view = fanQueueView(res.body, waiting);
    waiting.ask = view.ask;
    // Into the front window (or the turn may have come): ask the origin now, and from now on.
    if (view.ask === 'origin') return ask(waiting);
    nextPoll(waiting, view.pollAfterSeconds);
  }

  async function poll(waiting: WaitingFan<F>): Promise<void> {
    if (Date.now() >= deadline) {
      // The run ended with the fan still in the queue: unserved, which the fans-served check counts.
      rec.timedOutWaiting++;
      return finish(waiting, 'failed');
    }
    return waiting.ask === 'edge' ? look(waiting) : ask(waiting);
  }

  /** Near the front: the fan's own place from the origin, with their ticket. Asking says they are still there. */
  async function ask(waiting: WaitingFan<F>): Promise<void> {
    const { fan } = waiting;
    rec.waitingNear.originRequests++;
    const res = await patiently(
      rec,
      fan.random,
      () => http.get<QueueStatus>(o.url, { token: fan.auth, headers: { 'x-queue-ticket': waiting.ticket } }),
      patience,
    );
    if (res === undefined) return finish(waiting, 'gave-up');
    if (res.status === 200) {
      if (res.body.state === 'admitted') {
        rec.queueWaits.push(sinceEpoch() - waiting.joinedAt);
        return finish(waiting, { token: res.body.admissionToken, ticket: waiting.ticket });
      }
      if (res.body.soldOut) return finish(waiting, 'sold-out');
      if (res.body.state === 'expired') {
        rec.droppedWhilePolling++;
        rec.error('dropped from the queue');
        return finish(waiting, 'failed');
      }
    }
    if (sinceEpoch() > waiting.leavesAt) return finish(waiting, 'left');
    nextPoll(waiting, Number(res.headers['retry-after'] ?? 1));
  }

  return {
    /**
     * A fan who has just joined: they first ask when the join's Retry-After said, each next time when their last
     * poll's did, and go on (`waited`) once their wait has ended.
     */
    wait(
      fan: F,
      how: {
        leavesAt: number;
        ticket: string;
        number: number;
        draw: number;
        ask: 'edge' | 'origin';
        firstPollAfterSeconds: number;
        trying?: Promise<void> | undefined;
      },
    ): void {
      rec.waiting++;
      nextPoll(
        {
          fan,
          ticket: how.ticket,
          number: how.number,
          draw: how.draw,
          ask: how.ask,
          joinedAt: sinceEpoch(),
          leavesAt: Number.isFinite(how.leavesAt)
            ? Math.min(NEVER, Math.max(0, Math.ceil(how.leavesAt - epoch)))
            : NEVER,
          trying: how.trying,
        },
        how.firstPollAfterSeconds,
      );
    },
    get size() {
      return queue.size;
    },
    stop: () => queue.clear(),
  };
}

export type WaitingFans<F extends QueuedFan> = ReturnType<typeof waitingFans<F>>;
