import assert from 'node:assert/strict';
import fc from 'fast-check';
import { numberAt, placeOf } from '../src/domain/queue-lottery.ts';

describe('the pre-queue lottery (a keyed permutation, computed by the fans’ pages and the admission step alike)', () => {
  it('gives every pre-queue number its own place in 1…P, and numbers after the pre-queue keep their order behind it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (size, seed) => {
          const lottery = { size, seed };
          const places = new Set<number>();
          for (let n = 1; n <= size; n++) {
            const place = placeOf(n, lottery)!;
            assert.ok(place >= 1 && place <= size, `place ${place} of ${size}`);
            assert.equal(numberAt(place, lottery), n, 'the inverse finds the number again');
            places.add(place);
          }
          assert.equal(places.size, size, 'no two numbers share a place');
          assert.equal(placeOf(size + 1, lottery), size + 1);
          assert.equal(numberAt(size + 7, lottery), size + 7);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('knows no place before the opening', () => {
    assert.equal(placeOf(3, undefined), undefined);
  });

  it('draws every order of four pre-queue fans equally often over random keys (chi-square), and a biased draw fails the same test', () => {
    const orders = (draw: (seed: number) => number[]) => {
      const counts = new Map<string, number>();
      for (let seed = 1; seed <= 24_000; seed++) {
        const key = draw(Math.imul(seed, 2654435761) >>> 0).join('');
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
    const lottery = orders((seed) => [1, 2, 3, 4].map((n) => placeOf(n, { size: 4, seed })!));
    assert.equal(lottery.size, 24, 'every order of four appears');
    // 23 degrees of freedom: the 0.999 quantile is 49.7.
    assert.ok(chiSquare(lottery) < 49.7, `chi-square ${chiSquare(lottery).toFixed(1)}`);
    // A draw that favours fan 1 for place 1 a little more than its share is caught by the same statistic.
    const biased = orders((seed) => {
      const order = [1, 2, 3, 4].map((n) => placeOf(n, { size: 4, seed })!);
      if (seed % 7 === 0 && order[0] !== 1) {
        const i = order.indexOf(1);
        [order[0], order[i]] = [order[i]!, order[0]!];
      }
      return order;
    });
    assert.ok(chiSquare(biased) > 49.7, `a biased draw passed: ${chiSquare(biased).toFixed(1)}`);
  });
});
