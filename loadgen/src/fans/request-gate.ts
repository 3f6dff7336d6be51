/**
 * At most `limit` requests of a pool under way, the rest waiting their turn in arrival order. An opening's herd
 * offers tens of thousands of requests within a second; queued inside the HTTP client each is a full request
 * (headers, body, handlers) held for as long as the server takes to drain them, and that heap is what the
 * generator's garbage collector then walks. Waiting here, a request is one callback until its turn.
 */
export class RequestGate {
  readonly #limit: number;
  readonly #waiting: Array<() => void> = [];
  #active = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#active < this.#limit) this.#active++;
    // A slot freed is handed straight to the next in line, so a newcomer cannot overtake it.
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#active--;
      else next();
    }
  }
}
