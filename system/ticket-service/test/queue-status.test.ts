import assert from 'node:assert/strict';
import { fanQueueView, type QueueStatus } from '../src/domain/queue-status.ts';

const NOW = Date.parse('2026-12-06T12:00:00Z');

function status(o: Partial<QueueStatus> & { openingInSeconds?: number } = {}): QueueStatus {
  const { openingInSeconds = -60, ...rest } = o;
  return {
    eventId: 'e',
    opensAt: new Date(NOW - 3600_000).toISOString(),
    salesOpenAt: new Date(NOW + openingInSeconds * 1000).toISOString(),
    lottery: null,
    served: 0,
    lastNumber: 0,
    etaPerSecond: 100,
    fastestPerSecond: 100,
    paused: false,
    closed: false,
    soldOut: false,
    frontWindowSeconds: 120,
    at: new Date(NOW).toISOString(),
    ...rest,
  };
}

describe('a waiting fan’s own view, from their ticket and the shared status (the same function on their page)', () => {
  it('places a pre-queue fan by their draw once sealed, and a later joiner by their number, behind the pre-queue', () => {
    const sealed = status({ lottery: { size: 100_000, key: '00' }, lastNumber: 120_000, served: 1000 });
    const pre = fanQueueView(sealed, { number: 5, draw: 0.25 }, NOW);
    assert.equal(pre.place, 1 + Math.round(0.25 * 99_999));
    assert.equal(pre.placeEstimated, true);
    assert.equal(pre.position, pre.place! - 1000);
    const later = fanQueueView(sealed, { number: 100_500, draw: 0.01 }, NOW);
    assert.deepEqual(
      [later.place, later.placeEstimated],
      [100_500, false],
      'the draw counts only in the pre-queue',
    );
  });

  it('sends a fan to the origin only inside the front window, or once their turn may have come', () => {
    const sealed = status({ lottery: { size: 100_000, key: '00' }, served: 10_000, fastestPerSecond: 100 });
    // 100 a second at the fastest: the 120 s window holds the next 12,000 places.
    const inside = fanQueueView(sealed, { number: 5, draw: 0.15 }, NOW);
    assert.equal(inside.ask, 'origin', `position ${inside.position}`);
    const outside = fanQueueView(sealed, { number: 6, draw: 0.5 }, NOW);
    assert.equal(outside.ask, 'edge');
    assert.ok(outside.pollAfterSeconds > 15);
    const passed = fanQueueView(sealed, { number: 3, draw: 0.05 }, NOW);
    assert.deepEqual([passed.ask, passed.pollAfterSeconds], ['origin', 1]);
  });

  it('before the opening, sends nobody to the origin: a pre-queue fan near the front looks again in a quarter of the time to the opening (at the opening once that is near), one far back after a quarter of their wait', () => {
    const before = status({ openingInSeconds: 200, lastNumber: 400_000 });
    const front = fanQueueView(before, { number: 7, draw: 0.001 }, NOW);
    assert.deepEqual([front.ask, front.pollAfterSeconds, front.placeEstimated], ['edge', 50, true]);
    const soon = fanQueueView(
      status({ openingInSeconds: 10, lastNumber: 400_000 }),
      { number: 7, draw: 0.001 },
      NOW,
    );
    assert.equal(soon.pollAfterSeconds, 10);
    const back = fanQueueView(before, { number: 8, draw: 0.5 }, NOW);
    // 200,000 ahead at 100 a second: 2,000 s after the opening; five minutes at most (the pre-queue still grows).
    assert.deepEqual([back.ask, back.pollAfterSeconds], ['edge', 300]);
    const middle = fanQueueView(before, { number: 9, draw: 0.05 }, NOW);
    // 20,001st: the window (120 s at 100 a second) reaches them 80 s after the opening at the earliest.
    assert.deepEqual([middle.ask, middle.pollAfterSeconds], ['edge', 281]);
  });

  it('spreads a pre-queue’s first looks after the opening: of 100,000 fans, those looking in the opening’s first half minute are the front window and the arrivals’ own spread, not the crowd', () => {
    const openingIn = 300;
    let herd = 0;
    for (let i = 0; i < 100_000; i++) {
      // Fans arrive over the five minutes before the opening, each with their own draw.
      const joinedAt = NOW + (i / 100_000) * openingIn * 1000;
      const s = status({ openingInSeconds: openingIn, lastNumber: i + 1, fastestPerSecond: 100 });
      let at = joinedAt;
      let view = fanQueueView(s, { number: i + 1, draw: (i * 0.6180339887) % 1 }, at);
      // Before the opening each look sees the pre-queue grown to its final size (the worst case: the latest
      // estimate is the largest), and looks again when told.
      while (at + view.pollAfterSeconds * 1000 < NOW + openingIn * 1000) {
        at += view.pollAfterSeconds * 1000;
        view = fanQueueView(
          { ...s, lastNumber: 100_000 },
          { number: i + 1, draw: (i * 0.6180339887) % 1 },
          at,
        );
      }
      const firstAfter = at + view.pollAfterSeconds * 1000 - (NOW + openingIn * 1000);
      if (firstAfter >= 0 && firstAfter < 30_000) herd++;
    }
    // The front window at 100 a second is 12,000 places, and a tenth of the fans joined in the first 30 of the 300 s
    // (each looks again five minutes later at most). Without the draws every one of the 100,000 looked then.
    assert.ok(herd < 25_000, `${herd} of 100,000 looked in the opening's first 30 s`);
  });

  it('says the pre-queue’s place is an estimate before the opening, and knows none for an empty pre-queue', () => {
    const view = fanQueueView(status({ openingInSeconds: 30, lastNumber: 0 }), { number: 1, draw: 0.9 }, NOW);
    assert.deepEqual([view.place, view.placeEstimated, view.ask], [1, true, 'edge']);
  });
});
