import { type BackoffPolicy, backoffDelay, pause } from './backoff.ts';
import type { Logger } from './logger.ts';

/** What one pass found: more to do right away, or nothing (sleep until woken or idleMs passes). */
export type PassResult = 'busy' | 'idle';

export interface BackgroundLoopOptions {
  name: string;
  logger: Logger;
  /** One pass of the work. Throwing counts as a failure: the loop backs off, then tries again. */
  pass: () => Promise<PassResult>;
  idleMs: number;
  backoff?: BackoffPolicy;
}

export interface LoopHealth {
  running: boolean;
  /** Consecutive failed passes; 0 once a pass succeeds. */
  failures: number;
  lastError: string | undefined;
  lastSuccessAt: number | undefined;
}

/**
 * The one shape of every background worker (outbox relay, hold expiry, admission ticker, payment processor,
 * reconciler, pruning): one pass at a time, a wake-up for work that just arrived, and capped exponential
 * backoff with jitter while a dependency is away. A pass that throws never ends the loop.
 */
export class BackgroundLoop {
  readonly #options: BackgroundLoopOptions;
  #running = false;
  #loop: Promise<void> | undefined;
  #sleeping: AbortController | undefined;
  #wakeRequested = false;
  #stopped = new AbortController();
  #failures = 0;
  #lastError: string | undefined;
  #lastSuccessAt: number | undefined;

  constructor(options: BackgroundLoopOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopped = new AbortController();
    this.#loop = this.#run();
  }

  /** Asks for a pass now: cuts an idle sleep short (never a backoff), or runs again right after the current pass. */
  wake(): void {
    this.#wakeRequested = true;
    if (this.#failures === 0) this.#sleeping?.abort();
  }

  /** Stops after the pass in progress, if any. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#stopped.abort();
    this.#sleeping?.abort();
    await this.#loop;
  }

  get signal(): AbortSignal {
    return this.#stopped.signal;
  }

  health(): LoopHealth {
    return {
      running: this.#running,
      failures: this.#failures,
      lastError: this.#lastError,
      lastSuccessAt: this.#lastSuccessAt,
    };
  }

  async #run(): Promise<void> {
    const { name, logger, pass, idleMs, backoff } = this.#options;
    while (this.#running) {
      this.#wakeRequested = false;
      let result: PassResult = 'idle';
      try {
        result = await pass();
        if (this.#failures > 0)
          logger.info({ loop: name, after: this.#failures }, 'background loop recovered');
        this.#failures = 0;
        this.#lastError = undefined;
        this.#lastSuccessAt = Date.now();
      } catch (error) {
        this.#failures++;
        this.#lastError = (error as Error).message;
        // Loud on the first failure and then once in a while, not on every retry of a long outage.
        if (this.#failures === 1 || this.#failures % 20 === 0)
          logger.error(
            { err: error, loop: name, failures: this.#failures },
            'background loop pass failed; backing off',
          );
      }
      if (!this.#running) break;
      if (this.#failures > 0) {
        await pause(backoffDelay(this.#failures, backoff), this.#stopped.signal);
      } else if (result === 'idle' && !this.#wakeRequested) {
        this.#sleeping = new AbortController();
        await pause(idleMs, this.#sleeping.signal);
        this.#sleeping = undefined;
      }
    }
  }
}
