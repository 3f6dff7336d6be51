import assert from 'node:assert/strict';
import { waitFor } from '@reservex/kit/testing';
import { DueQueue } from '../src/fans/due-queue.ts';
import { fanSleep } from '../src/fans/fan-sleep.ts';
import { seededRandom } from '../src/random.ts';

const until = (done: () => boolean, what: string) =>
  waitFor(async () => done(), { timeoutMs: 5000, intervalMs: 5, what });

describe('the due queue behind one timer', () => {
  it('hands out many items in time order, whatever order they came in', async () => {
    const random = seededRandom(7);
    const got: number[] = [];
    const queue = new DueQueue<number>((at) => got.push(at));
    const start = Date.now();
    const times = Array.from({ length: 2000 }, () => start + Math.floor(random() * 60));
    for (const at of times) queue.add(at, at);
    assert.equal(queue.size, 2000);
    await until(() => got.length === 2000, 'all 2,000 items');
    assert.deepEqual(
      got,
      [...times].sort((a, b) => a - b),
    );
    assert.equal(queue.size, 0);
  });

  it('is not late for an item added before the one it was waiting for, nor early', async () => {
    const got: { name: string; pastDue: number; stillQueued: number }[] = [];
    const queue: DueQueue<{ name: string; due: number }> = new DueQueue((item) =>
      got.push({ name: item.name, pastDue: Date.now() - item.due, stillQueued: queue.size }),
    );
    const now = Date.now();
    queue.add(now + 5000, { name: 'late', due: now + 5000 });
    queue.add(now + 20, { name: 'soon', due: now + 20 });
    try {
      await until(() => got.length === 1, '"soon"');
      // "soon" came after the timer was set for "late": it went while "late" still waited, not with it 5 s on.
      assert.deepEqual(
        got.map((g) => [g.name, g.stillQueued]),
        [['soon', 1]],
      );
      assert.ok(got[0]!.pastDue >= 0, `"soon" went ${-got[0]!.pastDue} ms before its time`);
    } finally {
      queue.clear();
    }
  });

  it('refuses an item without a time, which would never come due and hold back all behind it', () => {
    const queue = new DueQueue<string>(() => {});
    assert.throws(() => queue.add(Number.NaN, 'lost'), /not NaN/);
    assert.equal(queue.size, 0);
  });

  it('lets an item due now add the next one, and stops for good when cleared', async () => {
    const got: string[] = [];
    const queue: DueQueue<string> = new DueQueue((name) => {
      got.push(name);
      if (name === 'first poll') queue.add(Date.now() + 5, 'second poll');
      if (name === 'second poll') queue.add(Date.now() + 30, 'never');
    });
    queue.add(Date.now(), 'first poll');
    await until(() => got.length === 2, 'both items');
    queue.clear();
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(got, ['first poll', 'second poll']);
    assert.equal(queue.size, 0);
  });
});

describe("the fans' shared sleep", () => {
  it('wakes each sleeper no sooner than asked, shortest first, whatever order they fell asleep in', async () => {
    const start = Date.now();
    const woke: number[] = [];
    const delays = [60, 5, 30, 0, 45, 15];
    await Promise.all(
      delays.map((ms) =>
        fanSleep(ms).then(() => {
          assert.ok(Date.now() - start >= ms, `a ${ms} ms sleep woke after ${Date.now() - start} ms`);
          woke.push(ms);
        }),
      ),
    );
    assert.deepEqual(
      woke,
      [...delays].sort((a, b) => a - b),
    );
  });

  it('treats a negative pause as none', async () => {
    const start = Date.now();
    await fanSleep(-1000);
    assert.ok(Date.now() - start < 1000);
  });
});
