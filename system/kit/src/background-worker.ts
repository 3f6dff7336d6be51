import {
  BackgroundLoop,
  type BackgroundLoopOptions,
  type LoopHealth,
  type PassResult,
} from './background-loop.ts';

/**
 * A worker that is one BackgroundLoop (the outbox relay, the reconciler, the hold-expiry sweep, ...): starting,
 * waking, stopping and health are the loop's, and the worker says what one pass does.
 */
export abstract class BackgroundWorker {
  readonly #loop: BackgroundLoop;

  constructor(loop: Omit<BackgroundLoopOptions, 'pass'>) {
    this.#loop = new BackgroundLoop({ ...loop, pass: () => this.pass() });
  }

  /** One pass of the work: 'busy' when there may be more to do at once. Throwing makes the loop back off. */
  protected abstract pass(): Promise<PassResult>;

  start(): void {
    this.#loop.start();
  }

  /** Asks for a pass now: after a commit that gave the worker something to do, so it need not wait for its poll. */
  wake(): void {
    this.#loop.wake();
  }

  /** Stops after the pass in progress, if any. */
  stop(): Promise<void> {
    return this.#loop.stop();
  }

  health(): LoopHealth {
    return this.#loop.health();
  }
}
