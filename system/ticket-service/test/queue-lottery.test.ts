import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LotteryOrder, lotteryDraws, lotteryKey, MAX_PRE_QUEUE } from '../src/domain/queue-lottery.ts';
import { estimatedPlace } from '../src/domain/queue-status.ts';

const SECRET = 'a secret of the waiting room, for tests';

describe('the pre-queue lottery (a draw per join number; the pre-queue in order of draw)', () => {
  it('gives every pre-queue number its own place in 1…P, and numbers after the pre-queue keep their order behind it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.uuid(), (size, eventId) => {
        const order = new LotteryOrder({ size, key: lotteryKey(SECRET, eventId) });
        const places = new Set<number>();
        for (let n = 1; n <= size; n++) {
          const place = order.placeOf(n);
          assert.ok(place >= 1 && place <= size, `place ${place} of ${size}`);
          assert.equal(order.numberAt(place), n, 'the order finds the number again');
          places.add(place);
        }
        assert.equal(places.size, size, 'no two numbers share a place');
        assert.equal(order.placeOf(size + 1), size + 1);
        assert.equal(order.numberAt(size + 7), size + 7);
      }),
      { numRuns: 40 },
    );
  });

  it('puts the pre-queue in order of the draws each fan was told at their join', () => {
    const key = lotteryKey(SECRET, 'an event');
    const draws = lotteryDraws(key);
    const order = new LotteryOrder({ size: 2000, key });
    const byDraw = Array.from({ length: 2000 }, (_, i) => i + 1).sort(
      (a, b) => draws.drawOf(a) - draws.drawOf(b),
    );
    for (const [i, n] of byDraw.entries()) assert.equal(order.placeOf(n), i + 1, `number ${n}`);
  });

  it('draws apart for every event, and nobody without the secret can tell a number’s draw', () => {
    const a = lotteryDraws(lotteryKey(SECRET, 'event a'));
    const b = lotteryDraws(lotteryKey(SECRET, 'event b'));
    const other = lotteryDraws(lotteryKey('another secret, same length as the first', 'event a'));
    const same = (x: typeof a, y: typeof a) =>
      Array.from({ length: 50 }, (_, i) => x.drawOf(i + 1) === y.drawOf(i + 1)).filter(Boolean).length;
    assert.equal(same(a, a), 50, 'a draw is the same every time it is asked');
    assert.equal(same(a, b), 0);
    assert.equal(same(a, other), 0);
  });

  it('draws every order of four pre-queue fans equally often over events (chi-square), and a biased draw fails the same test', () => {
    const orders = (draw: (eventId: string) => number[]) => {
      const counts = new Map<string, number>();
      for (let i = 1; i <= 24_000; i++) {
        const key = draw(`event ${i}`).join('');
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return counts;
    };
    const chiSquare = (counts: Map<string, number>) => {
      const expected = 24_000 / 24;
      let chi = 0;
      for (const c of counts.values()) chi += (c - expected) ** 2 / expected;
      // Orders never drawn count fully.
      chi += (24 - counts.size) * expected;
      return chi;
    };
    const placesOf = (eventId: string) => {
      const order = new LotteryOrder({ size: 4, key: lotteryKey(SECRET, eventId) });
      return [1, 2, 3, 4].map((n) => order.placeOf(n));
    };
    const fair = orders(placesOf);
    assert.equal(fair.size, 24, 'every order of four appears');
    // 23 degrees of freedom: the 0.999 quantile is 49.7.
    assert.ok(chiSquare(fair) < 49.7, `chi-square ${chiSquare(fair).toFixed(1)}`);
    // A draw that favours fan 1 for place 1 a little more than its share is caught by the same statistic.
    let i = 0;
    const biased = orders((eventId) => {
      const order = placesOf(eventId);
      if (++i % 7 === 0 && order[0] !== 1) {
        const j = order.indexOf(1);
        [order[0], order[j]] = [order[j]!, order[0]!];
      }
      return order;
    });
    assert.ok(chiSquare(biased) > 49.7, `a biased draw passed: ${chiSquare(biased).toFixed(1)}`);
  });

  it('lets a fan estimate their place from their draw within a few hundred places of the exact one, in a pre-queue of 100,000', () => {
    const key = lotteryKey(SECRET, 'a big pre-queue');
    const size = 100_000;
    const order = new LotteryOrder({ size, key });
    const draws = lotteryDraws(key);
    let worst = 0;
    for (let n = 1; n <= size; n++)
      worst = Math.max(worst, Math.abs(estimatedPlace(draws.drawOf(n), size) - order.placeOf(n)));
    // The error of a rank estimate is about √(P·d·(1−d)), at most √P/2 (158 here); the worst of 100,000 stays
    // under six times that (3·√P).
    assert.ok(worst < 3 * Math.sqrt(size), `an estimate ${worst} places off`);
  });

  it('refuses a pre-queue larger than its sort key can hold', () => {
    assert.throws(
      () => new LotteryOrder({ size: MAX_PRE_QUEUE + 1, key: lotteryKey(SECRET, 'x') }),
      RangeError,
    );
  });
});
