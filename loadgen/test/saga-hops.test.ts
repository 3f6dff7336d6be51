import assert from 'node:assert/strict';
import { hopFigures } from '../bench/saga-hops.ts';

describe("bench:saga's legs of a booking", () => {
  it('splits each booking at its own timestamps, so a slow leg shows where it is and nowhere else', () => {
    // 100 bookings: the charge leg of the last one took 900 ms, every other leg of every booking its own constant.
    const bookings = Array.from({ length: 100 }, (_, i) => {
      const dueAt = i * 1000;
      const reservedAt = dueAt + 5;
      const paymentOpenedAt = reservedAt + 20;
      const capturedAt = paymentOpenedAt + (i === 99 ? 900 : 30);
      return { dueAt, reservedAt, paymentOpenedAt, capturedAt, confirmedAt: capturedAt + 40 };
    });
    assert.deepEqual(hopFigures(bookings), {
      reserve: { p50: 5, p99: 5 },
      'to payment': { p50: 20, p99: 20 },
      charge: { p50: 30, p99: 30 },
      back: { p50: 40, p99: 40 },
    });
    bookings[98]!.capturedAt += 870;
    bookings[98]!.confirmedAt += 870;
    assert.deepEqual(hopFigures(bookings).charge, { p50: 30, p99: 900 });
    assert.deepEqual(hopFigures([]).back, { p50: 0, p99: 0 });
  });
});
