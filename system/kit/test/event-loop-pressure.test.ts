import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  eventLoopPressure,
  nextYieldShare,
  YIELD_STEPS,
  yieldRetryAfterSeconds,
} from '../src/event-loop-pressure.ts';
import { waitFor } from '../src/testing/index.ts';

describe('the event loop’s pressure', () => {
  it('refuses a larger share while the loop is above its target, a smaller one below, within bounds', () => {
    assert.equal(nextYieldShare(0, 0.95, 0.9), YIELD_STEPS.up);
    assert.equal(nextYieldShare(0.5, 0.95, 0.9), 0.5 + YIELD_STEPS.up);
    assert.equal(nextYieldShare(0.5, 0.9, 0.9), 0.5 - YIELD_STEPS.down, 'at the target is not above it');
    assert.equal(nextYieldShare(0.02, 0.1, 0.9), 0);
    assert.equal(nextYieldShare(0.85, 1, 0.9), YIELD_STEPS.maxShare, 'never every request');
    assert.equal(nextYieldShare(0, 1, 1), 0, 'a target of 1 never refuses');
  });

  it('tells a refused request to come back later the larger the share, jittered, within a minute', () => {
    assert.equal(
      yieldRetryAfterSeconds(0.1, 3, () => 0.5),
      4,
    );
    assert.equal(
      yieldRetryAfterSeconds(0.5, 3, () => 0.5),
      6,
    );
    assert.equal(
      yieldRetryAfterSeconds(0.9, 3, () => 0.5),
      30,
    );
    assert.equal(
      yieldRetryAfterSeconds(0.9, 3, () => 0),
      15,
    );
    assert.equal(
      yieldRetryAfterSeconds(0.9, 3, () => 0.999),
      45,
    );
    assert.equal(
      yieldRetryAfterSeconds(0.9, 10, () => 0.9),
      60,
    );
    assert.equal(
      yieldRetryAfterSeconds(0, 1, () => 0),
      1,
    );
  });

  it('follows the utilisation it samples up to its cap, and back to nothing', async () => {
    let utilisation = 1;
    const pressure = eventLoopPressure({ target: 0.8, sampleMs: 5, utilisation: () => utilisation });
    try {
      await waitFor(async () => pressure.share() === YIELD_STEPS.maxShare, { what: 'the share at its cap' });
      utilisation = 0.3;
      await waitFor(async () => pressure.share() === 0, { what: 'the share back to nothing' });
    } finally {
      pressure.stop();
    }
    const stopped = pressure.share();
    utilisation = 1;
    await sleep(30);
    assert.equal(pressure.share(), stopped, 'stopped, it samples no more');
  });

  it('reads the real loop: busy, it asks for a share; idle, it lets it go', async () => {
    const pressure = eventLoopPressure({ target: 0.5, sampleMs: 20 });
    try {
      // Busy in slices, so the sampling timer runs between them.
      const until = Date.now() + 300;
      while (Date.now() < until) {
        const slice = Date.now() + 15;
        while (Date.now() < slice);
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(pressure.share() > 0, `share ${pressure.share()} after 300 ms of a busy loop`);
      await waitFor(async () => pressure.share() === 0, { what: 'the share back to nothing once idle' });
    } finally {
      pressure.stop();
    }
  });
});
