import assert from 'node:assert/strict';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { judgeLoadGenerator, startSelfMonitor } from '../src/run/self-monitor.ts';

describe('the load generator watching itself', () => {
  it('flags a run where it was the bottleneck, by CPU or by a late event loop, and clears one where it kept up', () => {
    const calm = {
      cpuShareOfOneCore: 0.3,
      peakCpuShareOfOneCore: 0.5,
      eventLoopDelayMs: { p50: 10, p99: 20, max: 40 },
    };
    assert.equal(judgeLoadGenerator(calm), null);
    assert.match(judgeLoadGenerator({ ...calm, peakCpuShareOfOneCore: 0.97 }) ?? '', /CPU reached 97%/);
    assert.match(
      judgeLoadGenerator({ ...calm, eventLoopDelayMs: { p50: 30, p99: 250, max: 900 } }) ?? '',
      /event loop ran 250 ms late/,
    );
  });

  it('sees its own event loop blocked', async () => {
    const monitor = startSelfMonitor(50);
    const until = Date.now() + 300;
    await new Promise((r) => setTimeout(r, 20));
    while (Date.now() < until) {
      // Busy: the loop cannot turn.
    }
    await new Promise((r) => setTimeout(r, 20));
    const figures = monitor.stop();
    assert.ok(figures.eventLoopDelayMs.max >= 250, `max delay ${figures.eventLoopDelayMs.max} ms`);
    assert.ok(figures.peakCpuShareOfOneCore > 0, `peak CPU ${figures.peakCpuShareOfOneCore}`);
    assert.ok(
      (figures.peakAtSeconds ?? 99) <= 1,
      `the busy stretch came first, not at ${figures.peakAtSeconds} s`,
    );
  });

  it('says when its busiest window was: late in the run, not at its start', async () => {
    // The CPU figures are the test's, one busy core from 1.6 to 1.9 s, so that work elsewhere in this process (a
    // collection after another test, on its helper threads) cannot make an early window the busiest.
    const t0 = performance.now();
    const busyMicros = () => Math.min(Math.max(performance.now() - t0 - 1600, 0), 300) * 1000;
    const cpuUsage = (since?: NodeJS.CpuUsage): NodeJS.CpuUsage => ({
      user: busyMicros() - (since?.user ?? 0),
      system: 0,
    });
    const monitor = startSelfMonitor(50, cpuUsage);
    await new Promise((r) => setTimeout(r, 2000));
    const { peakAtSeconds, peakCpuShareOfOneCore, windowsOverLimit } = monitor.stop();
    assert.ok(peakAtSeconds !== undefined && peakAtSeconds >= 2, `peak at ${peakAtSeconds} s`);
    assert.ok(peakCpuShareOfOneCore > 0.5, `peak ${peakCpuShareOfOneCore} of a core`);
    // 300 ms of a full core in 50 ms windows: about six at the limit, the rest idle.
    assert.ok(
      windowsOverLimit !== undefined && windowsOverLimit >= 4 && windowsOverLimit <= 8,
      `${windowsOverLimit} windows at the limit`,
    );
  });

  it('counts the garbage collector’s pauses, a full collection apart from young ones', async () => {
    const monitor = startSelfMonitor(50);
    // Garbage until the young generation has been collected at least once, however large it is in this process.
    let young = 0;
    const watch = new PerformanceObserver((list) => {
      for (const entry of list.getEntries())
        if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR)
          young++;
    });
    watch.observe({ entryTypes: ['gc'] });
    let kept: number[][] = [];
    for (let round = 0; round < 200 && young === 0; round++) {
      kept = [];
      for (let i = 0; i < 200_000; i++) kept.push([i, i]);
      await new Promise((r) => setImmediate(r));
    }
    watch.disconnect();
    kept = [];
    // And a collection of everything the process holds, forced where V8 lets a test do so.
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    await new Promise((r) => setTimeout(r, 50));
    const { gc } = monitor.stop();
    assert.ok(gc !== undefined);
    assert.ok(gc.major.count >= 1, `full collections: ${gc.major.count}`);
    assert.ok(gc.minor.count >= 1, `young collections: ${gc.minor.count}`);
    assert.ok(gc.shareOfWall > 0 && gc.shareOfWall < 1, `share ${gc.shareOfWall}`);
    assert.equal(kept.length, 0);
  });
});
