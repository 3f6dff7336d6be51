import assert from 'node:assert/strict';
import { activeTraceIds, createTracing, type Span, tracingConfigSchema } from '@reservex/kit';
import { httpClient } from '../src/fans/http-client.ts';
import { type Admission, type QueuedFan, waitingFans } from '../src/fans/waiting-fans.ts';
import { seededRandom } from '../src/random.ts';
import { Recorder } from '../src/run/recorder.ts';
import { standIn } from './stand-in.ts';

type Answer = (fan: string, poll: number) => { status?: number; body: object; retryAfter?: string };
/** What the stand-in edge answers for the shared status, on its n-th read. */
type StatusAnswer = (read: number) => object;

const tracer = createTracing('waiting-fans-test', tracingConfigSchema.parse({})).tracer;

/** A fan as the test knows them: the promise of how their wait ends stands in for the rest of their journey. */
interface TestFan extends QueuedFan {
  settle: (admission: Admission) => void;
}

/**
 * The waiting fans of one run, polling a stand-in for ticket-service's GET /queue/me: each fan (by token) is told
 * what `answer` says on each poll, and every poll's time and trace are kept.
 */
async function waitingRoom(
  answer: Answer,
  o: { connections: number; deadlineMs: number; status?: StatusAnswer },
) {
  const polls = new Map<string, number[]>();
  /** Reads of the shared status (no sign-in), and the tickets fans showed the origin, by fan. */
  const statusReads: Array<{ at: number; authorization: string | undefined }> = [];
  const ticketsShown = new Map<string, string | undefined>();
  const traces = new Map<string, Set<string>>();
  /** The trace each fan went on from the queue in: what they do next (book) must carry theirs. */
  const wentOnIn = new Map<string, string | undefined>();
  const server = await standIn((req, res) => {
    if (req.url?.endsWith('/queue/status')) {
      statusReads.push({ at: Date.now(), authorization: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json', 'x-cache-status': 'HIT' });
      return void res.end(JSON.stringify(o.status?.(statusReads.length) ?? {}));
    }
    const fan = (req.headers.authorization ?? '').replace('Bearer ', '');
    ticketsShown.set(fan, req.headers['x-queue-ticket'] as string | undefined);
    const times = polls.get(fan) ?? [];
    times.push(Date.now());
    polls.set(fan, times);
    traces.set(fan, (traces.get(fan) ?? new Set()).add(String(req.headers.traceparent).split('-')[1] ?? ''));
    const a = answer(fan, times.length);
    res.writeHead(a.status ?? 200, {
      'content-type': 'application/json',
      ...(a.retryAfter === undefined ? {} : { 'retry-after': a.retryAfter }),
    });
    res.end(JSON.stringify(a.body));
  });
  const rec = new Recorder(0);
  const http = httpClient(rec, o.connections);
  const deadline = Date.now() + o.deadlineMs;
  const fans = waitingFans<TestFan>({
    http,
    recorder: rec,
    url: `${server.url}/api/events/e/queue/me`,
    statusUrl: `${server.url}/api/events/e/queue/status`,
    deadline,
    waited: (fan, admission) => {
      wentOnIn.set(fan.auth, activeTraceIds().traceId);
      fan.settle(admission);
    },
  });
  const wait = (
    auth: string,
    o: {
      random: () => number;
      leavesAt: number;
      firstPollAfterSeconds: number;
      span?: Span;
      ask?: 'edge' | 'origin';
      number?: number;
      draw?: number;
    },
  ) =>
    new Promise<Admission>((settle) =>
      fans.wait(
        { auth, random: o.random, span: o.span ?? tracer.startSpan(auth), settle },
        {
          leavesAt: o.leavesAt,
          firstPollAfterSeconds: o.firstPollAfterSeconds,
          ticket: `ticket-of-${auth}`,
          number: o.number ?? 1,
          draw: o.draw ?? 0,
          ask: o.ask ?? 'origin',
        },
      ),
    );
  return {
    fans,
    wait,
    rec,
    statusReads,
    ticketsShown,
    polls,
    traces,
    wentOnIn,
    deadline,
    close: async () => {
      fans.stop();
      await http.close();
      server.close();
    },
  };
}

describe('the waiting fans, behind one timer', () => {
  const waiting = { state: 'waiting', position: 5 };

  it('each fan polls when told and in their own trace, until admitted, and hears their own admission', async () => {
    const { fans, wait, rec, polls, traces, wentOnIn, close } = await waitingRoom(
      (fan, poll) =>
        poll < 3
          ? { body: waiting, retryAfter: '0.3' }
          : { body: { state: 'admitted', position: null, admissionToken: `token of ${fan}` } },
      { connections: 8, deadlineMs: 20_000 },
    );
    try {
      const joinedAt = Date.now();
      const spans = ['a', 'b', 'c'].map((auth) => tracer.startSpan(`fan ${auth}`));
      const outcomes = await Promise.all(
        ['a', 'b', 'c'].map((auth, i) =>
          wait(auth, {
            random: seededRandom(i + 1),
            leavesAt: Infinity,
            firstPollAfterSeconds: 0.3,
            span: spans[i],
          }),
        ),
      );
      // One timer sends every poll, yet each carries its own fan's trace.
      assert.deepEqual(
        ['a', 'b', 'c'].map((auth) => [...traces.get(auth)!]),
        spans.map((span) => [span.spanContext().traceId]),
      );
      assert.deepEqual(
        ['a', 'b', 'c'].map((auth) => wentOnIn.get(auth)),
        spans.map((span) => span.spanContext().traceId),
      );
      assert.deepEqual(outcomes, [
        { token: 'token of a', ticket: 'ticket-of-a' },
        { token: 'token of b', ticket: 'ticket-of-b' },
        { token: 'token of c', ticket: 'ticket-of-c' },
      ]);
      for (const auth of ['a', 'b', 'c']) {
        const times = polls.get(auth)!;
        assert.equal(times.length, 3, `${auth} polled ${times.length} times`);
        // Told 0.3 s, with 20% jitter either way: never sooner than 240 ms after the last answer.
        const gaps = [times[0]! - joinedAt, times[1]! - times[0]!, times[2]! - times[1]!];
        assert.ok(
          gaps.every((g) => g >= 235),
          `${auth} came back sooner than told: ${gaps.join(', ')} ms`,
        );
      }
      assert.equal(rec.waiting, 0);
      assert.equal(rec.queueWaits.length, 3);
      assert.equal(fans.size, 0);
    } finally {
      await close();
    }
  });

  it('a fan told of the sellout, one dropped, one who left and one still waiting at the end each end as such', async () => {
    const {
      wait: waitAs,
      rec,
      polls,
      deadline,
      close,
    } = await waitingRoom(
      (fan) => {
        if (fan === 'sold-out') return { body: { ...waiting, soldOut: true } };
        if (fan === 'dropped') return { body: { state: 'expired', position: null } };
        return { body: waiting, retryAfter: fan === 'patient' ? '3600' : '0.25' };
      },
      { connections: 8, deadlineMs: 1500 },
    );
    try {
      const wait = (auth: string, leavesAt = Infinity) =>
        waitAs(auth, { random: seededRandom(9), leavesAt, firstPollAfterSeconds: 0.25 });
      const outcomes = await Promise.all([
        wait('sold-out'),
        wait('dropped'),
        wait('leaving', Date.now() + 400),
        wait('patient'),
      ]);
      assert.deepEqual(outcomes, ['sold-out', 'failed', 'left', 'failed']);
      // The patient fan, told to come back in an hour, was let go at the run's end, not an hour later.
      assert.ok(
        Date.now() - deadline < 30_000,
        `the last fan ended ${Date.now() - deadline} ms after the deadline`,
      );
      assert.equal(polls.get('patient')?.length, 1);
      assert.equal(rec.timedOutWaiting, 1);
      assert.equal(rec.droppedWhilePolling, 1);
      assert.equal(rec.waiting, 0);
    } finally {
      await close();
    }
  });

  it('an answer without a readable Retry-After is asked again a second later, not never', async () => {
    const { wait, close } = await waitingRoom(
      (_fan, poll) =>
        poll < 2
          ? { body: waiting, retryAfter: 'soon' }
          : { body: { state: 'admitted', position: null, admissionToken: 't' } },
      { connections: 2, deadlineMs: 10_000 },
    );
    try {
      const outcome = await wait('f', {
        random: seededRandom(3),
        leavesAt: Infinity,
        firstPollAfterSeconds: Number.NaN,
      });
      assert.deepEqual(outcome, { token: 't', ticket: 'ticket-of-f' });
    } finally {
      await close();
    }
  });

  it('a fan far from the front reads only the shared status from the edge, never the origin, until their place is in the front window; then asks the origin with their ticket', async () => {
    const status = (served: number) => ({
      eventId: 'e',
      opensAt: new Date(Date.now() - 60_000).toISOString(),
      salesOpenAt: new Date(Date.now() - 1000).toISOString(),
      lottery: { size: 0, key: '00' },
      served,
      lastNumber: 2000,
      etaPerSecond: 100,
      // At 8 a second, 1,000 places ahead is 125 s away: outside the 120 s window (the fan looks again when it could
      // reach them, in 5 s); 500 ahead is inside.
      fastestPerSecond: 8,
      paused: false,
      closed: false,
      soldOut: false,
      frontWindowSeconds: 120,
      at: new Date().toISOString(),
    });
    const room = await waitingRoom(() => ({ body: { state: 'admitted', admissionToken: 'T' } }), {
      connections: 2,
      deadlineMs: 30_000,
      status: (read) => status(read === 1 ? 0 : 500),
    });
    try {
      const outcome = await room.wait('far', {
        random: seededRandom(7),
        leavesAt: Number.POSITIVE_INFINITY,
        firstPollAfterSeconds: 0,
        ask: 'edge',
        number: 1000,
      });
      assert.deepEqual(outcome, { token: 'T', ticket: 'ticket-of-far' });
      assert.equal(room.statusReads.length, 2, 'one read far back, one that found the window');
      assert.ok(
        room.statusReads.every((r) => r.authorization === undefined),
        'the shared status needs no sign-in',
      );
      const origin = room.polls.get('far') ?? [];
      assert.equal(origin.length, 1, 'the origin is asked once, after the read that found the window');
      assert.ok(origin[0]! >= room.statusReads[1]!.at, 'never while far from the front');
      assert.equal(room.ticketsShown.get('far'), 'ticket-of-far');
      assert.deepEqual(room.rec.edge, { requests: 2, hits: 2 });
      assert.equal(room.rec.waitingFar.originRequests, 0);
      assert.equal(room.rec.waitingNear.originRequests, 1);
    } finally {
      await room.close();
    }
  });
});
