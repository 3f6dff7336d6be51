import { performance } from 'node:perf_hooks';

/** How fast the share of refused requests follows the event loop: up quickly, down gently, never all of them. */
export const YIELD_STEPS = { up: 0.1, down: 0.05, maxShare: 0.9 } as const;

/**
 * The share of yielding requests to refuse next, from the event loop's utilisation over the last sample: a step up
 * while it is above the target, a smaller step down while below. A control loop, not a threshold: under a standing
 * herd it settles at the share that keeps the loop just under the target, and the rest of the work gets the loop.
 */
export function nextYieldShare(
  share: number,
  utilisation: number,
  target: number,
  steps: { up: number; down: number; maxShare: number } = YIELD_STEPS,
): number {
  return utilisation > target ? Math.min(steps.maxShare, share + steps.up) : Math.max(0, share - steps.down);
}

/**
 * How long a refused request is told to wait: longer the larger the share refused, so that a herd turned away does
 * not come back as a bigger one, with jitter (×0.5 to ×1.5) so that it does not come back together. At most 60 s.
 */
export function yieldRetryAfterSeconds(share: number, baseSeconds: number, random: () => number): number {
  const stretched = baseSeconds / Math.max(0.1, 1 - share);
  return Math.min(60, Math.max(1, Math.ceil(stretched * (0.5 + random()))));
}

/**
 * The process's event loop, sampled every `sampleMs`: the share of yielding requests to refuse now. Node runs each
 * request's JavaScript on the one loop, so a loop busy all the time is one where every request waits its turn
 * behind the others, whatever the database or Redis are doing.
 */
export function eventLoopPressure({
  target,
  sampleMs = 250,
  utilisation = loopUtilisation(),
}: {
  /** The utilisation (0 to 1) above which yielding requests begin to be refused. */
  target: number;
  sampleMs?: number;
  utilisation?: () => number;
}): { share: () => number; stop: () => void } {
  let share = 0;
  const timer = setInterval(() => {
    share = nextYieldShare(share, utilisation(), target);
  }, sampleMs);
  timer.unref();
  return { share: () => share, stop: () => clearInterval(timer) };
}

/** The loop's utilisation since the last call. */
function loopUtilisation(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    return utilization;
  };
}
