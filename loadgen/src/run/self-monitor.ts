import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

/**
 * The load generator watching itself: its CPU time and its event loop's delay over the run. A run where the
 * generator was the bottleneck measured the generator, not the system, so its figures are flagged as not
 * publishable (the invariants still stand: they read the databases, not the generator's clock).
 */
export interface LoadGeneratorFigures {
  /** CPU seconds over wall seconds: 1 is one core fully busy (it is one JavaScript thread plus libuv). */
  cpuShareOfOneCore: number;
  /** The highest CPU share over any 5-second window. */
  peakCpuShareOfOneCore: number;
  /** When that window ended, in seconds from the start of the watch: the opening's herd, or later. */
  peakAtSeconds?: number;
  /**
   * How many 5-second windows reached the CPU limit, and how long the collector paused the JavaScript thread in the
   * busiest: one collection's spike and a generator short of a core all along read differently.
   */
  windowsOverLimit?: number;
  peakWindowGcMs?: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /**
   * The garbage collector's pauses of the JavaScript thread over the run: its share of the wall time, and the
   * young collections (scavenges) apart from the full ones' pauses (mark-compact, with its incremental steps),
   * since those grow with everything the generator holds (a million fans).
   */
  gc?: GcPauses;
  /** Why the figures of this run are not to be published, or null when the generator kept up. */
  bottleneck: string | null;
}

export interface GcPauses {
  shareOfWall: number;
  major: { count: number; ms: number };
  minor: { count: number; ms: number };
}

/** Past these the generator, not the system, sets the pace: timers fire late and answers wait to be read. */
export const BOTTLENECK_LIMITS = { peakCpuShareOfOneCore: 0.9, eventLoopDelayP99Ms: 100 } as const;

export function judgeLoadGenerator(
  f: Omit<LoadGeneratorFigures, 'bottleneck'>,
  limits = BOTTLENECK_LIMITS,
): string | null {
  const reasons: string[] = [];
  if (f.peakCpuShareOfOneCore >= limits.peakCpuShareOfOneCore)
    reasons.push(`its CPU reached ${Math.round(f.peakCpuShareOfOneCore * 100)}% of a core`);
  if (f.eventLoopDelayMs.p99 >= limits.eventLoopDelayP99Ms)
    reasons.push(`its event loop ran ${f.eventLoopDelayMs.p99} ms late at p99`);
  return reasons.length === 0 ? null : `the load generator was the bottleneck: ${reasons.join(', ')}`;
}

/** `cpuUsage` is the process's own unless a test supplies one whose figures it controls. */
export function startSelfMonitor(windowMs = 5000, cpuUsage = process.cpuUsage) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const gc = { major: { count: 0, ms: 0 }, minor: { count: 0, ms: 0 } };
  const gcWatch = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      // Incremental marking steps and weak callbacks are parts of a full collection, counted with it.
      const into = kind === constants.NODE_PERFORMANCE_GC_MINOR ? gc.minor : gc.major;
      into.count++;
      into.ms += entry.duration;
    }
  });
  gcWatch.observe({ entryTypes: ['gc'] });
  const started = { cpu: cpuUsage(), at: performance.now() };
  let window = { ...started };
  let peak = 0;
  let peakAt = 0;
  let peakGcMs = 0;
  let over = 0;
  const gcMs = () => gc.major.ms + gc.minor.ms;
  let windowGcMs = 0;
  const share = (from: { cpu: NodeJS.CpuUsage; at: number }) => {
    const used = cpuUsage(from.cpu);
    const wallMs = Math.max(1, performance.now() - from.at);
    return (used.user + used.system) / 1000 / wallMs;
  };
  // The window just ended: the peak if it is the busiest so far, and when it ended.
  const closeWindow = () => {
    const last = share(window);
    if (last >= BOTTLENECK_LIMITS.peakCpuShareOfOneCore) over++;
    if (last > peak)
      [peak, peakAt, peakGcMs] = [
        last,
        Math.round((performance.now() - started.at) / 1000),
        gcMs() - windowGcMs,
      ];
    window = { cpu: cpuUsage(), at: performance.now() };
    windowGcMs = gcMs();
  };
  const timer = setInterval(closeWindow, windowMs);
  timer.unref();
  return {
    stop(): LoadGeneratorFigures {
      clearInterval(timer);
      histogram.disable();
      gcWatch.disconnect();
      const wallMs = Math.max(1, performance.now() - started.at);
      const pauses = (p: { count: number; ms: number }) => ({ count: p.count, ms: Math.round(p.ms) });
      const ms = (ns: number) => Math.round(ns / 1e5) / 10;
      closeWindow();
      const figures = {
        cpuShareOfOneCore: Math.round(share(started) * 100) / 100,
        peakCpuShareOfOneCore: Math.round(peak * 100) / 100,
        peakAtSeconds: peakAt,
        windowsOverLimit: over,
        peakWindowGcMs: Math.round(peakGcMs),
        eventLoopDelayMs: {
          p50: ms(histogram.percentile(50)),
          p99: ms(histogram.percentile(99)),
          max: ms(histogram.max),
        },
        gc: {
          shareOfWall: Math.round(((gc.major.ms + gc.minor.ms) / wallMs) * 1000) / 1000,
          major: pauses(gc.major),
          minor: pauses(gc.minor),
        },
      };
      return { ...figures, bottleneck: judgeLoadGenerator(figures) };
    },
  };
}
