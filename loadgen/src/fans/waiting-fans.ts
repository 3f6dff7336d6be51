import { inSpanContext, type Span } from '@reservex/kit';
import type { Recorder } from '../run/recorder.ts';
import { DueQueue } from './due-queue.ts';
import type { HttpClient } from './http-client.ts';
import { type Patience, patiently } from './patient-request.ts';

export type Admission = { token: string | undefined } | 'left' | 'sold-out' | 'failed' | 'gave-up';

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
 * What a fan in the queue keeps between two polls: no answer, no promise, no callback, no timer of its own. A
 * stadium's crowd waits here for minutes, so each byte counts 200,000 times.
 */
interface WaitingFan<F> {
  fan: F;
  joinedAt: number;
  /** When the fan gives up and stops asking: the queue drops them when their turn comes. */
  leavesAt: number;
  /** A misbehaving fan's attempt to book past the queue, still under way. */
  trying: Promise<void> | undefined;
}

/**
 * Every fan in the waiting room, polling when the server says (Retry-After) until admitted, told of the sellout,
 * dropped, gone, or out of time; all behind one timer (DueQueue).
 */
export function waitingFans<F extends QueuedFan>(o: {
  http: HttpClient;
  recorder: Recorder;
  /** The fan's own place: GET /api/events/:id/queue/me. */
  url: string;
  deadline: number;
  /** Where each fan goes on from here, once, with how their wait ended; in the fan's trace. */
  waited: (fan: F, admission: Admission) => void;
}) {
  const { http, recorder: rec, deadline } = o;
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
    queue.add(
      Math.min(Date.now() + Math.max(250, seconds * 1000 * (0.8 + waiting.fan.random() * 0.4)), deadline),
      waiting,
    );
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

  async function poll(waiting: WaitingFan<F>): Promise<void> {
    if (Date.now() >= deadline) {
      // The run ended with the fan still in the queue: unserved, which the fans-served check counts.
      rec.timedOutWaiting++;
      return finish(waiting, 'failed');
    }
    const { fan } = waiting;
    const res = await patiently(
      rec,
      fan.random,
      () => http.get<QueueStatus>(o.url, { token: fan.auth }),
      patience,
    );
    if (res === undefined) return finish(waiting, 'gave-up');
    if (res.status === 200) {
      if (res.body.state === 'admitted') {
        rec.queueWaits.push(Date.now() - waiting.joinedAt);
        return finish(waiting, { token: res.body.admissionToken });
      }
      if (res.body.soldOut) return finish(waiting, 'sold-out');
      if (res.body.state === 'expired') {
        rec.droppedWhilePolling++;
        rec.error('dropped from the queue');
        return finish(waiting, 'failed');
      }
    }
    if (Date.now() > waiting.leavesAt) return finish(waiting, 'left');
    nextPoll(waiting, Number(res.headers['retry-after'] ?? 1));
  }

  return {
    /**
     * A fan who has just joined: they first ask when the join's Retry-After said, each next time when their last
     * poll's did, and go on (`waited`) once their wait has ended.
     */
    wait(
      fan: F,
      how: { leavesAt: number; firstPollAfterSeconds: number; trying?: Promise<void> | undefined },
    ): void {
      rec.waiting++;
      nextPoll(
        { fan, joinedAt: Date.now(), leavesAt: how.leavesAt, trying: how.trying },
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
