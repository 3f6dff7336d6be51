import assert from 'node:assert/strict';
import { RequestGate } from '../src/fans/request-gate.ts';

describe('the request gate', () => {
  it('lets at most its limit through at once, the rest in arrival order, and newcomers never overtake', async () => {
    const gate = new RequestGate(2);
    const started: number[] = [];
    const release = new Map<number, () => void>();
    let most = 0;
    const work = (n: number) =>
      gate.run(async () => {
        started.push(n);
        most = Math.max(most, gate.active);
        await new Promise<void>((resolve) => release.set(n, resolve));
        return n;
      });
    const runs = [1, 2, 3, 4].map(work);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, [1, 2]);
    assert.equal(gate.waiting, 2);
    release.get(1)!();
    await new Promise((r) => setImmediate(r));
    // The freed slot went to 3, who was waiting, not to a newcomer arriving at the same moment.
    runs.push(work(5));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, [1, 2, 3]);
    for (const n of [2, 3, 4, 5]) {
      release.get(n)!();
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual(await Promise.all(runs), [1, 2, 3, 4, 5]);
    assert.deepEqual(started, [1, 2, 3, 4, 5]);
    assert.equal(most, 2);
    assert.equal(gate.active, 0);
  });

  it('frees the slot of a request that failed', async () => {
    const gate = new RequestGate(1);
    await assert.rejects(
      gate.run(() => Promise.reject(new Error('refused'))),
      /refused/,
    );
    assert.equal(await gate.run(async () => 'next'), 'next');
    assert.equal(gate.active, 0);
  });
});
