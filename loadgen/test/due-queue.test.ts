import assert from 'node:assert/strict';
import { waitFor } from '@reservex/kit/testing';
import { DueQueue } from '../src/due-queue.ts';
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

  it('is not late for an item added before the one it was waiting for, nor early for anything', async () => {
    const got: { name: string; at: number }[] = [];
    const queue = new DueQueue<{ name: string; due: number }>((item) =>
      got.push({ name: item.name, at: Date.now() - item.due }),
    );
    const now = Date.now();
    queue.add(now + 400, { name: 'late', due: now + 400 });
    queue.add(now + 20, { name: 'soon', due: now + 20 });
    await until(() => got.length === 2, 'both items');
    assert.deepEqual(
      got.map((g) => g.name),
      ['soon', 'late'],
    );
    // "soon" came after the timer was set for "late": it still went first, not at 400 ms.
    assert.ok(
      got.every((g) => g.at >= 0),
      `an item went before its time: ${JSON.stringify(got)}`,
    );
    assert.ok(got[0]!.at < 300, `"soon" waited for "late": ${got[0]!.at} ms past its time`);
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
