import type { Logger } from './logger.ts';

export interface ShutdownStep {
  name: string;
  run: () => Promise<void>;
}

// A step reached after the grace period is spent still gets this long: closing pools must not be skipped.
const LAST_CHANCE_MS = 500;

/**
 * Runs the steps in order (drain HTTP, stop consumers, close pools) within one grace period shared by all of
 * them, so a stuck dependency cannot keep the process alive past it, and a hung early step still leaves the
 * later ones their turn.
 */
export async function shutdown(
  steps: readonly ShutdownStep[],
  graceMs: number,
  logger: Logger,
): Promise<void> {
  const deadline = Date.now() + graceMs;
  for (const step of steps) {
    let timer: NodeJS.Timeout | undefined;
    const budget = Math.max(LAST_CHANCE_MS, deadline - Date.now());
    try {
      await Promise.race([
        step.run(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`did not finish within ${budget}ms`)), budget);
        }),
      ]);
    } catch (error) {
      logger.warn({ err: error, step: step.name }, 'shutdown step failed');
    } finally {
      clearTimeout(timer);
    }
  }
}

export function shutdownOnSignals(stop: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

/** Waits while readiness already says DOWN, so load balancers take the instance out before it stops listening. */
export function drainDelay(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
