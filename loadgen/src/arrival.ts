import type { Scenario } from './scenario.ts';

/**
 * Arrival offsets in ms from the run's start, sorted. "burst" puts most of the crowd in the first seconds after
 * the opening (an exponential decay), which is what an on-sale looks like; "uniform" spreads them evenly.
 */
export function arrivalOffsets(s: Scenario, openAtMs: number, random: () => number): number[] {
  const start = openAtMs - s.arrival.beforeOpenSeconds * 1000;
  const span = Math.max(1, s.arrival.overSeconds * 1000);
  const offsets = Array.from({ length: s.users }, () => {
    if (s.arrival.shape === 'uniform') return start + random() * span;
    // Half the crowd before the opening hammering refresh, the other half arriving fast right after it.
    if (s.arrival.beforeOpenSeconds > 0 && random() < 0.5) return start + random() * (openAtMs - start);
    const tail = -Math.log(1 - random()) * (span / 6);
    return openAtMs + Math.min(tail, span);
  });
  return offsets.map((o) => Math.max(0, Math.round(o))).sort((a, b) => a - b);
}
