import type { Scenario } from '../scenario.ts';

/**
 * Arrival offsets in ms from the run's start, sorted. "burst" puts most of the crowd in the first seconds after
 * the opening (an exponential decay), which is what an on-sale looks like; "uniform" spreads them evenly.
 */
export function arrivalOffsets(s: Scenario, openAtMs: number, random: () => number): number[] {
  const start = openAtMs - s.arrival.beforeOpenSeconds * 1000;
  const span = Math.max(1, s.arrival.overSeconds * 1000);
  const offsets = Array.from({ length: s.users }, () => {
    if (s.arrival.shape === 'uniform') return start + random() * span;
    // Part of the crowd before the opening hammering refresh, the rest arriving fast right after it.
    if (s.arrival.beforeOpenSeconds > 0 && random() < s.arrival.beforeOpenShare)
      return start + random() * (openAtMs - start);
    const tail = -Math.log(1 - random()) * (s.arrival.afterOpenMeanSeconds ?? span / 6000) * 1000;
    return openAtMs + Math.min(tail, span);
  });
  return offsets.map((o) => Math.max(0, Math.round(o))).sort((a, b) => a - b);
}

/**
 * The crowd arriving in turn: each fan's journey starts at their arrival time (sorted, ms since the epoch), behind
 * one timer and a cursor, not a timer and a promise per fan yet to come (200,000 at stadium size, for minutes).
 * Nothing awaits a journey either: each says when it has ended, so a fan minutes in the queue holds no promise.
 */
export class Crowd {
  private readonly at: readonly number[];
  /** 0 not started (or never will be), 1 on their way, 2 ended. */
  private readonly state: Uint8Array;
  private next = 0;
  private running = 0;
  private settle: { done: () => void; failed: (error: Error) => void } | undefined;

  constructor(at: readonly number[]) {
    this.at = at;
    this.state = new Uint8Array(at.length);
  }

  /**
   * Starts each journey at its time; `journey` answers false for a fan who never set out (the run was over).
   * Settles once every journey started has ended.
   */
  arrive(journey: (index: number) => boolean): Promise<void> {
    return new Promise((done, failed) => {
      this.settle = { done, failed };
      const step = () => {
        const now = Date.now();
        while (this.next < this.at.length && this.at[this.next]! <= now) {
          const index = this.next++;
          // On their way before the journey starts: one may end before it returns.
          this.state[index] = 1;
          this.running++;
          let setOut: boolean;
          try {
            setOut = journey(index);
          } catch (error) {
            // A journey that cannot even start is a harness bug: the run stops here, as Promise.all would.
            return failed(error as Error);
          }
          if (setOut) continue;
          this.state[index] = 0;
          this.running--;
        }
        if (this.next < this.at.length) setTimeout(step, this.at[this.next]! - now);
        else this.settleIfDone();
      };
      step();
    });
  }

  /** A fan's journey is over. Ending one twice, or one that never started, is a harness bug: it fails `arrive`. */
  ended(index: number): void {
    if (this.state[index] !== 1) {
      this.settle?.failed(
        new Error(`fan ${index} ended ${this.state[index] === 2 ? 'twice' : 'before it started'}`),
      );
      return;
    }
    this.state[index] = 2;
    this.running--;
    this.settleIfDone();
  }

  private settleIfDone(): void {
    if (this.running === 0 && this.next === this.at.length) this.settle?.done();
  }
}
