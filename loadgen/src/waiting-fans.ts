import { currentTraceContext, inTraceContext } from '@reservex/kit';
import { DueQueue } from './due-queue.ts';
import type { HttpClient } from './http-client.ts';
import { type Patience, patiently } from './patient-request.ts';
import type { Recorder } from './recorder.ts';

export type Admission = { token: string | undefined } | 'left' | 'sold-out' | 'failed' | 'gave-up';

interface QueueStatus {
  state: 'waiting' | 'admitted' | 'expired';
  soldOut?: boolean;
  admissionToken?: string;
}

/** What a fan in the queue keeps between two polls: no answer, no suspended function, no timer of its own. */
interface WaitingFan {
  auth: string;
  random: () => number;
  joinedAt: number;
  /** When the fan gives up and stops asking: the queue drops them when their turn comes. */
  leavesAt: number;
  /** A misbehaving fan's attempt to book past the queue, still under way. */
  trying: Promise<void> | undefined;
  /** The fan's trace, so their polls carry it although one timer sends them. */
  trace: ReturnType<typeof currentTraceContext>;
  settle: (admission: Admission) => void;
}

/**
 * Every fan in the waiting room, polling when the server says (Retry-After) until admitted, told of the sellout,
 * dropped, gone, or out of time; all behind one timer (DueQueue).
 */
export function waitingFans(o: {
  http: HttpClient;
  recorder: Recorder;
  /** The fan's own place: GET /api/events/:id/queue/me. */
  url: string;
  deadline: number;
}) {
  const { http, recorder: rec, deadline } = o;
  const patience: Patience = { maxAttempts: 10, until: deadline };
  const queue = new DueQueue<WaitingFan>((fan) =>
    inTraceContext(fan.trace, () =>
      // Nothing awaits a poll but the fan: one that threw would leave them, and the run, waiting for ever.
      poll(fan).catch((error: Error) => {
        rec.error(`queue poll: ${error.message}`);
        finish(fan, 'failed');
      }),
    ),
  );

  /**
   * As the server says, with jitter, but never past the end of the run: a fan far back was told to wait long. An
   * answer without a readable Retry-After means a second, as a browser's app would guess.
   */
  const nextPoll = (fan: WaitingFan, retryAfterSeconds: number) => {
    const seconds = Number.isFinite(retryAfterSeconds) ? retryAfterSeconds : 1;
    queue.add(
      Math.min(Date.now() + Math.max(250, seconds * 1000 * (0.8 + fan.random() * 0.4)), deadline),
      fan,
    );
  };

  const finish = (fan: WaitingFan, admission: Admission) => {
    rec.waiting--;
    if (fan.trying === undefined) fan.settle(admission);
    else void fan.trying.then(() => fan.settle(admission));
  };

  async function poll(fan: WaitingFan): Promise<void> {
    if (Date.now() >= deadline) {
      // The run ended with the fan still in the queue: unserved, which the fans-served check counts.
      rec.timedOutWaiting++;
      return finish(fan, 'failed');
    }
    const res = await patiently(
      rec,
      fan.random,
      () => http.get<QueueStatus>(o.url, { token: fan.auth }),
      patience,
    );
    if (res === undefined) return finish(fan, 'gave-up');
    if (res.status === 200) {
      if (res.body.state === 'admitted') {
        rec.queueWaits.push(Date.now() - fan.joinedAt);
        return finish(fan, { token: res.body.admissionToken });
      }
      if (res.body.soldOut) return finish(fan, 'sold-out');
      if (res.body.state === 'expired') {
        rec.error('dropped from the queue');
        return finish(fan, 'failed');
      }
    }
    if (Date.now() > fan.leavesAt) return finish(fan, 'left');
    nextPoll(fan, Number(res.headers['retry-after'] ?? 1));
  }

  return {
    /**
     * A fan who has just joined: they first ask when the join's Retry-After said, each next time when their last
     * poll's did, and the promise settles with how their wait ended.
     */
    wait(fan: {
      auth: string;
      random: () => number;
      leavesAt: number;
      firstPollAfterSeconds: number;
      trying?: Promise<void>;
    }): Promise<Admission> {
      rec.waiting++;
      return new Promise<Admission>((settle) => {
        nextPoll(
          {
            auth: fan.auth,
            random: fan.random,
            joinedAt: Date.now(),
            leavesAt: fan.leavesAt,
            trying: fan.trying,
            trace: currentTraceContext(),
            settle,
          },
          fan.firstPollAfterSeconds,
        );
      });
    },
    get size() {
      return queue.size;
    },
    stop: () => queue.clear(),
  };
}

export type WaitingFans = ReturnType<typeof waitingFans>;
