import { BoundedMap } from './bounded-map.ts';

/**
 * Values kept for a while per key, with concurrent misses for one key sharing one load: the waiting room asks
 * for the same event's settings thousands of times a second, and the database should see one query. At most
 * `maxEntries` are kept, the least recently used forgotten first (BoundedMap: a constant cost per call).
 */
export class TtlCache<K, V> {
  readonly #ttlMs: number;
  readonly #entries: BoundedMap<K, { value: V; at: number }>;
  readonly #loading = new Map<K, Promise<V>>();

  constructor(options: { ttlMs: number; maxEntries?: number }) {
    this.#ttlMs = options.ttlMs;
    this.#entries = new BoundedMap(options.maxEntries ?? 100_000);
  }

  peek(key: K): V | undefined {
    const entry = this.#entries.get(key);
    // A lapsed entry stays until it is written again or its generation is forgotten: deleting it here and setting
    // it again is the pattern that makes a large Map slow (bounded-map.ts).
    if (entry === undefined || Date.now() - entry.at >= this.#ttlMs) return undefined;
    return entry.value;
  }

  set(key: K, value: V): void {
    this.#entries.set(key, { value, at: Date.now() });
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  async get(key: K, load: () => Promise<V>): Promise<V> {
    const cached = this.peek(key);
    if (cached !== undefined) return cached;
    let pending = this.#loading.get(key);
    if (pending === undefined) {
      pending = load()
        .then((value) => {
          this.set(key, value);
          return value;
        })
        .finally(() => this.#loading.delete(key));
      this.#loading.set(key, pending);
    }
    return pending;
  }
}
