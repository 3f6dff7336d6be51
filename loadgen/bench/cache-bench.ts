// npm run bench:caches: what a join's in-memory bookkeeping costs ticket-service as the crowd grows. A join counts
// its fan and its address (the join limits, a TtlCache) and remembers the fan's verified access token (a
// BoundedMap); the kit's structures are timed beside a plain Map used the way they used one until 2026-12-07
// (delete and set again on each write, oldest out through keys()), with the same keys, in the same run. Only the
// ratios mean something: at a constant cost per call, 1,000,000 fans cost a join what 10,000 do.
import { BoundedMap, TtlCache } from '@reservex/kit';

const EVENT = '0193a7b2-1c2d-7e4f-8a9b-0c1d2e3f4a5b';
const MEASURED_JOINS = 50_000;

/** A Map as an insertion-ordered cache, the way the kit kept one before BoundedMap. */
class MapAsCache<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #maxEntries: number;
  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }
  get(key: K): V | undefined {
    return this.#entries.get(key);
  }
  set(key: K, value: V): void {
    if (this.#entries.size >= this.#maxEntries && !this.#entries.has(key))
      this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.delete(key);
    this.#entries.set(key, value);
  }
}

interface Caches {
  counts: { get(key: string): { n: number } | undefined; set(key: string, value: { n: number }): void };
  tokens: { get(key: string): number | undefined; set(key: string, value: number): void };
}

function kitCaches(): Caches {
  const counts = new TtlCache<string, { n: number }>({ ttlMs: 60_000, maxEntries: 2_000_000 });
  return {
    counts: { get: (k) => counts.peek(k), set: (k, v) => counts.set(k, v) },
    tokens: new BoundedMap(250_000),
  };
}

function mapCaches(): Caches {
  return { counts: new MapAsCache(2_000_000), tokens: new MapAsCache(250_000) };
}

/** One join's bookkeeping: its fan's count, its address's count (one address: a crowd behind NAT), its token. */
function join(caches: Caches, fan: number): void {
  for (const key of [`${EVENT}|u|${fan}`, `${EVENT}|ip|203.0.113.7`]) {
    const count = caches.counts.get(key) ?? { n: 0 };
    count.n += 1;
    caches.counts.set(key, count);
  }
  const token = `eyJhbGciOiJFZERTQSJ9.fan-${fan}`;
  if (caches.tokens.get(token) === undefined) caches.tokens.set(token, fan);
}

/** Microseconds per join once `crowd` fans have joined before. */
function microsecondsPerJoin(make: () => Caches, crowd: number): number {
  const caches = make();
  for (let fan = 0; fan < crowd; fan++) join(caches, fan);
  const started = performance.now();
  for (let fan = crowd; fan < crowd + MEASURED_JOINS; fan++) join(caches, fan);
  return ((performance.now() - started) * 1000) / MEASURED_JOINS;
}

/** The Map takes minutes to fill past this: its last row is left out. */
const MAP_CROWD_AT_MOST = 300_000;

const rows = [10_000, 100_000, 300_000, 1_000_000].map((crowd) => ({
  crowd,
  kit: microsecondsPerJoin(kitCaches, crowd),
  map: crowd <= MAP_CROWD_AT_MOST ? microsecondsPerJoin(mapCaches, crowd) : undefined,
}));
const [first] = rows;
console.log('fans joined before | kit µs/join | × at 10,000 | Map as cache µs/join | × at 10,000');
for (const r of rows)
  console.log(
    [
      r.crowd.toLocaleString('en'),
      r.kit.toFixed(2),
      (r.kit / first!.kit).toFixed(1),
      r.map?.toFixed(2) ?? 'not run',
      r.map === undefined ? '' : (r.map / first!.map!).toFixed(1),
    ].join(' | '),
  );
