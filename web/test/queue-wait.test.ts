import assert from 'node:assert/strict';
import { FRONT_WINDOW_SECONDS, type QueueStatus } from '@reservex/ticket-service/queue-status';
import { lookAgainMs, lookFromEdge, retryAfterFailureMs } from '../src/fan/queue-wait.ts';

const NOW = Date.parse('2027-02-01T03:00:00Z');

/** The shared status as the edge serves it: a queue open for a while, nothing special about it. */
function aSharedStatus(overrides: Partial<QueueStatus> = {}): QueueStatus {
  return {
    eventId: '00000000-0000-4000-8000-000000000001',
    opensAt: '2027-02-01T02:50:00Z',
    salesOpenAt: '2027-02-01T02:55:00Z',
    lottery: { size: 0, key: '00000000000000000000000000000007' },
    served: 1000,
    lastNumber: 50_000,
    etaPerSecond: 10,
    fastestPerSecond: 10,
    paused: false,
    closed: false,
    soldOut: false,
    frontWindowSeconds: FRONT_WINDOW_SECONDS,
    at: '2027-02-01T02:59:59Z',
    ...overrides,
  };
}

const early = () => 0;
/** A ticket with this join number (its draw counts only in a pre-queue). */
const at = (number: number, draw = 0.5) => ({ number, draw });
const late = () => 0.999_999;

describe('web: a waiting fan works out their place from the shared status', () => {
  it('far back, shows the place behind those served and looks at the edge again when told, never later', () => {
    const look = lookFromEdge(aSharedStatus(), at(11_000), NOW, late);
    assert.equal(look.ask, 'edge');
    assert.equal(look.shown.state, 'waiting');
    assert.equal(look.shown.place, 11_000);
    assert.equal(look.shown.position, 10_000);
    assert.equal(look.shown.etaSeconds, 1000);
    // 10,000 ahead at 10 a second: the front window (two minutes) could reach them in 880 s; five minutes at most.
    assert.equal(look.shown.pollAfterSeconds, 300);
    assert.ok(look.nextLookMs <= 300_000 && look.nextLookMs >= 270_000, `${look.nextLookMs}`);
    assert.equal(lookFromEdge(aSharedStatus(), at(11_000), NOW, early).nextLookMs, 300_000);
  });

  it('inside the front window (two minutes at the fastest rate), asks the origin', () => {
    assert.equal(lookFromEdge(aSharedStatus(), at(1000 + 10 * FRONT_WINDOW_SECONDS), NOW).ask, 'origin');
    assert.equal(lookFromEdge(aSharedStatus(), at(1000 + 10 * FRONT_WINDOW_SECONDS + 1), NOW).ask, 'edge');
    // Far at the measured rate, but not at the operator's ceiling: the ceiling decides.
    assert.equal(lookFromEdge(aSharedStatus({ fastestPerSecond: 100 }), at(11_000), NOW).ask, 'origin');
  });

  it('once the turn may have come, asks the origin, which alone knows whether it did', () => {
    const look = lookFromEdge(aSharedStatus(), at(999), NOW);
    assert.equal(look.ask, 'origin');
    assert.equal(look.shown.state, 'waiting');
    assert.equal(look.shown.position, 0);
  });

  it('says paused and sold out as the shared status does, and keeps the place', () => {
    const look = lookFromEdge(
      aSharedStatus({ paused: true, etaPerSecond: null, soldOut: true }),
      at(11_000),
      NOW,
      early,
    );
    assert.equal(look.shown.paused, true);
    assert.equal(look.shown.soldOut, true);
    assert.equal(look.shown.position, 10_000);
    assert.equal(look.shown.etaSeconds, null);
    // Far back, a resumption changes nothing for a while: at the fastest rate the window reaches them in 880 s.
    assert.equal(look.nextLookMs, 300_000);
    const near = lookFromEdge(aSharedStatus({ paused: true, etaPerSecond: null }), at(1500), NOW, early);
    assert.equal(near.nextLookMs, 10_000, 'near the front, often enough to see it resume');
  });

  it('in the pre-queue, estimates its place from its draw before the opening and after, and a later joiner queues behind', () => {
    const before = lookFromEdge(
      aSharedStatus({ lottery: null, served: 0, lastNumber: 5000, salesOpenAt: '2027-02-01T03:01:00Z' }),
      at(42, 0.5),
      NOW,
      early,
    );
    assert.equal(before.ask, 'edge', 'the origin has nothing to say before the opening');
    assert.equal(before.shown.position, 2501, 'half the pre-queue so far ahead');
    // 2,501 at 10 a second is 250.1 s after the opening; the window could reach them 130.1 s after it, 191 s from
    // now in whole seconds.
    assert.equal(before.nextLookMs, 191_000);
    const drawn = aSharedStatus({
      lottery: { size: 5000, key: '00000000000000000000000000000007' },
      served: 0,
      fastestPerSecond: 1,
    });
    assert.equal(lookFromEdge(drawn, at(42, 0.1), NOW).shown.place, 501);
    assert.equal(
      lookFromEdge(drawn, at(5001, 0.1), NOW).shown.place,
      5001,
      'who joined after the opening queues behind',
    );
  });
});

describe('web: when a waiting fan looks again', () => {
  it('up to a tenth sooner than told, never later', () => {
    assert.equal(lookAgainMs(10, early), 10_000);
    assert.equal(lookAgainMs(10, late), 9000);
    assert.equal(
      lookAgainMs(1, () => 0.5),
      950,
    );
  });

  it('after a failure, backs off from 2 s to at most 30 s', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 10].map((n) => retryAfterFailureMs(n, early)),
      [2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000],
    );
  });
});
