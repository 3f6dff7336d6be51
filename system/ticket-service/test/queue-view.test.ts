import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAdmissionRecord } from '../src/domain/admission-record.ts';
import { capacityOf, rowLabel, seatsFromLayout } from '../src/domain/event-layout.ts';
import {
  FASTEST_ADMISSION_PER_SECOND,
  MAX_POLL_SECONDS,
  nextRate,
  pollAfterSeconds,
  queueView,
} from '../src/domain/queue-view.ts';

describe('queue view (pure)', () => {
  it('a waiting fan is ticket − served away, with an ETA from the measured rate', () => {
    assert.deepEqual(queueView(150, 100, false, 10), { state: 'waiting', position: 50, etaSeconds: 5 });
    assert.deepEqual(queueView(150, 100, false, undefined), {
      state: 'waiting',
      position: 50,
      etaSeconds: null,
    });
  });

  it('the pre-queue has no position yet; a dropped fan has expired; a served one is admitted only with an admission', () => {
    assert.deepEqual(queueView(0, 10, false, 5), { state: 'waiting', position: null, etaSeconds: null });
    assert.equal(queueView(-7, 10, false, 5).state, 'expired');
    assert.equal(queueView(7, 10, true, 5).state, 'admitted');
    assert.equal(queueView(7, 10, false, 5).state, 'expired');
  });

  it('polls between 1 and 60 s, at most a quarter of the expected wait (never less than 1 s)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        (position, eta) => {
          const s = pollAfterSeconds({ state: 'waiting', position, etaSeconds: eta });
          assert.ok(s >= 1 && s <= 60);
          assert.ok(s <= Math.max(1, Math.round(eta / 4)));
        },
      ),
    );
    assert.equal(pollAfterSeconds({ state: 'admitted', position: 0, etaSeconds: 0 }), 1);
    assert.equal(pollAfterSeconds({ state: 'admitted', position: 0, etaSeconds: 400 }), 1);
    assert.equal(pollAfterSeconds({ state: 'expired', position: null, etaSeconds: 400 }), 1);
    assert.equal(pollAfterSeconds({ state: 'waiting', position: 100, etaSeconds: 40 }), 10);
    // No rate to go by (paused): every 10 s.
    assert.equal(pollAfterSeconds({ state: 'waiting', position: 5, etaSeconds: null }), 10);
  });

  it('never away longer than admitting everyone ahead at 1,000 a second would take, nor under 15 s for that', () => {
    // 5,000 ahead with a slow ETA: not 60 s but 15 s (the floor of that cap).
    assert.equal(pollAfterSeconds({ state: 'waiting', position: 5000, etaSeconds: 1000 }), 15);
    // 30,000 ahead: 30 s; 200,000 ahead: the one-minute cap.
    assert.equal(pollAfterSeconds({ state: 'waiting', position: 30_000, etaSeconds: 1000 }), 30);
    assert.equal(
      pollAfterSeconds({ state: 'waiting', position: 200_000, etaSeconds: 10_000 }),
      MAX_POLL_SECONDS,
    );
    // A quarter of a short ETA still wins.
    assert.equal(pollAfterSeconds({ state: 'waiting', position: 30_000, etaSeconds: 20 }), 5);
    assert.equal(FASTEST_ADMISSION_PER_SECOND, 1000);
  });

  it('a dropped fan is expired even if the record says admitted; a ticket at the serving counter is served', () => {
    assert.equal(queueView(-7, 10, true, 5).state, 'expired');
    assert.deepEqual(queueView(10, 10, true, 5), { state: 'admitted', position: 0, etaSeconds: 0 });
    assert.deepEqual(queueView(150, 100, false, 0), { state: 'waiting', position: 50, etaSeconds: null });
  });

  it('the measured rate moves towards each new sample, and starts at the first', () => {
    assert.equal(nextRate(undefined, 50, 1), 50);
    assert.equal(nextRate(undefined, 50, 2), 25);
    const next = nextRate(50, 100, 1);
    assert.ok(next > 50 && next < 100);
    assert.equal(nextRate(10, 5, 0), 10 + 0.3 * (0 - 10));
  });
});

describe('event layout and admission records (pure)', () => {
  it('rows are labelled as on a ticket: A…Z, then AA, AB…', () => {
    assert.deepEqual([0, 1, 25, 26, 27, 701, 702].map(rowLabel), ['A', 'B', 'Z', 'AA', 'AB', 'ZZ', 'AAA']);
  });

  it('a layout makes exactly its capacity in seats, each position once', () => {
    const sections = [
      { name: 'VIP', rows: 3, seatsPerRow: 4, price: 10 },
      { name: 'R', rows: 30, seatsPerRow: 2, price: 5 },
    ];
    const seats = seatsFromLayout(sections);
    assert.equal(seats.length, capacityOf(sections));
    assert.equal(new Set(seats.map((s) => `${s.section}/${s.row}/${s.number}`)).size, seats.length);
  });

  it('reads the admission log record the TICK script writes, and refuses anything else', () => {
    assert.deepEqual(parseAdmissionRecord('user-1|42|1700000000000'), {
      userId: 'user-1',
      ticket: 42,
      admittedAt: 1_700_000_000_000,
    });
    assert.equal(parseAdmissionRecord('nonsense'), undefined);
  });
});
