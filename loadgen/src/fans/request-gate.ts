/**
 * At most `limit` requests of a pool under way, the rest waiting their turn in arrival order. An opening's herd
 * offers tens of thousands of requests within a second; queued inside the HTTP client each is a full request
 * (headers, body, handlers) held for as long as the server takes to drain them, and that heap is what the
 * generator's garbage collector then walks. Waiting here, a request is one callback until its turn.
 */
export class RequestGate {
  readonly #limit: number;
  /**
   * In line from `#head` on. Taken from the front by moving `#head`, not by `shift()`: V8 moves every element left
   * for a shift of a large array, and with the 300,000 joins of a million-fan opening in line that was 72% of the
   * generator's CPU (a profile of 2026-12-07). The array is cut once the front half is used up.
   */
  #waiting: Array<(() => void) | undefined> = [];
  #head = 0;
  #active = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#active < this.#limit) this.#active++;
    // A slot freed is handed straight to the next in line, so a newcomer cannot overtake it.
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.#next();
      if (next === undefined) this.#active--;
      else next();
    }
  }

  #next(): (() => void) | undefined {
    if (this.#head === this.#waiting.length) return undefined;
    const next = this.#waiting[this.#head];
    this.#waiting[this.#head++] = undefined;
    if (this.#head === this.#waiting.length) [this.#waiting, this.#head] = [[], 0];
    else if (this.#head >= 1024 && this.#head * 2 >= this.#waiting.length)
      [this.#waiting, this.#head] = [this.#waiting.slice(this.#head), 0];
    return next;
  }
}
