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

  it('keeps arrival order and its count through a line of thousands, as the line is cut behind its front', async () => {
    const gate = new RequestGate(1);
    const started: number[] = [];
    const releases: Array<() => void> = [];
    const runs = Array.from({ length: 5000 }, (_, n) =>
      gate.run(async () => {
        started.push(n);
        await new Promise<void>((resolve) => releases.push(resolve));
      }),
    );
    await new Promise((r) => setImmediate(r));
    let inLine = 4999;
    for (let done = 0; done < 5000; done++) {
      // A newcomer joins the back while the front is served: it must not be lost when the line is cut.
      if (done === 3000) {
        runs.push(gate.run(async () => void started.push(5000)));
        inLine++;
      }
      assert.equal(gate.waiting, inLine);
      releases[done]!();
      await new Promise((r) => setImmediate(r));
      inLine--;
    }
    await Promise.all(runs);
    assert.deepEqual(
      started,
      Array.from({ length: 5001 }, (_, n) => n),
    );
    assert.equal(gate.active, 0);
  });
});
