/**
 * Many things each due at its own time, behind one timer. A stadium's crowd waits minutes for its turn; as a
 * suspended async function per fan (its frame, its timer, its promise, the last answer it read) a waiting fan cost
 * the generator about 7 KB, 1.4 GB of heap for 200,000, and the full collections of that heap stalled the event loop
 * for two seconds. Here a waiting fan is one entry: a time in a packed array of numbers and the fan's small record.
 */
export class DueQueue<T> {
  // A binary min-heap by time, kept as two parallel arrays: no wrapper object per entry.
  private readonly times: number[] = [];
  private readonly items: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly due: (item: T) => void;
  private readonly now: () => number;

  /** `due` is called once for each item, in time order, at or soon after its time. */
  constructor(due: (item: T) => void, now: () => number = Date.now) {
    this.due = due;
    this.now = now;
  }

  get size(): number {
    return this.items.length;
  }

  add(at: number, item: T): void {
    // NaN compares false both ways: it would sit at the top of the heap, never due, and hold everyone behind it.
    if (Number.isNaN(at)) throw new RangeError('an item needs a time to be due at, not NaN');
    let i = this.items.length;
    this.times.push(at);
    this.items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.times[parent]! <= at) break;
      this.move(parent, i);
      i = parent;
    }
    this.place(i, at, item);
    if (at < this.timerAt) this.arm(at);
  }

  /** Forgets every item without calling `due`, and lets the process end. */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.times.length = 0;
    this.items.length = 0;
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - this.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.now();
    // Taken out first and called after, so a `due` that adds an item (the next poll) never sees a half-moved heap.
    const ready: T[] = [];
    while (this.items.length > 0 && this.times[0]! <= now) ready.push(this.pop());
    if (this.items.length > 0) this.arm(this.times[0]!);
    for (const item of ready) this.due(item);
  }

  private pop(): T {
    const top = this.items[0]!;
    const lastAt = this.times.pop()!;
    const last = this.items.pop()!;
    const n = this.items.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.times[right]! < this.times[left]! ? right : left;
      if (this.times[child]! >= lastAt) break;
      this.move(child, i);
      i = child;
    }
    this.place(i, lastAt, last);
    return top;
  }

  private move(from: number, to: number): void {
    this.times[to] = this.times[from]!;
    this.items[to] = this.items[from]!;
  }

  private place(i: number, at: number, item: T): void {
    this.times[i] = at;
    this.items[i] = item;
  }
}
