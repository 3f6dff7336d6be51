import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAdmissionRecord } from '../src/domain/admission-record.ts';
import { capacityOf, rowLabel, seatsFromLayout } from '../src/domain/event-layout.ts';
import {
  dueAfterMs,
  MAX_POLL_SECONDS,
  nextRate,
  pollAfterSeconds,
  queueView,
} from '../src/domain/queue-view.ts';

describe('queue view (pure)', () => {
  it('a fan is due a quarter later than told: a late poll far back is not leaving, one at the front barely waits', () => {
    assert.equal(dueAfterMs(MAX_POLL_SECONDS), 375_000);
    assert.equal(dueAfterMs(2), 2500);
    assert.equal(dueAfterMs(0), 0);
  });

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

  it('polls between 1 and 300 s, at most a quarter of the expected wait (never less than 1 s)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        (position, eta, fastest) => {
          const s = pollAfterSeconds({ state: 'waiting', position, etaSeconds: eta }, fastest);
          assert.ok(s >= 1 && s <= 300);
          assert.ok(s <= Math.max(1, Math.round(eta / 4)));
          // Never away longer than admitting everyone ahead at the fastest rate, unless that is under 15 s.
          assert.ok(s <= Math.max(15, position / fastest));
        },
      ),
    );
    assert.equal(pollAfterSeconds({ state: 'admitted', position: 0, etaSeconds: 0 }, 50), 1);
    assert.equal(pollAfterSeconds({ state: 'admitted', position: 0, etaSeconds: 400 }, 50), 1);
    assert.equal(pollAfterSeconds({ state: 'expired', position: null, etaSeconds: 400 }, 50), 1);
    assert.equal(pollAfterSeconds({ state: 'waiting', position: 100, etaSeconds: 40 }, 50), 10);
    // No rate to go by (paused): every 10 s.
    assert.equal(pollAfterSeconds({ state: 'waiting', position: 5, etaSeconds: null }, 50), 10);
  });

  it('never away longer than admitting everyone ahead at the fastest rate would take, nor under 15 s for that', () => {
    // 5,000 ahead, admissions able to reach 1,000/s: not the quarter of a slow ETA (250 s) but 15 s (the floor).
    assert.equal(pollAfterSeconds({ state: 'waiting', position: 5000, etaSeconds: 1000 }, 1000), 15);
    // 30,000 ahead: 30 s; at a ceiling of 100/s, the quarter of the ETA.
    assert.equal(pollAfterSeconds({ state: 'waiting', position: 30_000, etaSeconds: 1000 }, 1000), 30);
    assert.equal(pollAfterSeconds({ state: 'waiting', position: 30_000, etaSeconds: 1000 }, 100), 250);
    // 200,000 ahead at 50/s: the five-minute cap.
    assert.equal(
      pollAfterSeconds({ state: 'waiting', position: 200_000, etaSeconds: 4000 }, 50),
      MAX_POLL_SECONDS,
    );
    assert.equal(MAX_POLL_SECONDS, 300);
    // A quarter of a short ETA still wins.
    assert.equal(pollAfterSeconds({ state: 'waiting', position: 30_000, etaSeconds: 20 }, 1000), 5);
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
