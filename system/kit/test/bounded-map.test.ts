import assert from 'node:assert/strict';
import { BoundedMap, TtlCache } from '../src/index.ts';

describe('bounded map', () => {
  it('never holds more than its bound, however many keys pass through', () => {
    const map = new BoundedMap<number, number>(10);
    for (let i = 0; i < 1000; i++) {
      map.set(i, i);
      assert.ok(map.size <= 10, `${map.size} entries after ${i + 1} writes`);
    }
    assert.ok(map.size >= 5, 'and keeps at least the newest half');
    assert.equal(map.get(999), 999);
  });

  it('forgets the least recently written first, and a read keeps a key', () => {
    const map = new BoundedMap<string, number>(4);
    for (const [i, key] of ['a', 'b', 'c', 'd'].entries()) map.set(key, i);
    assert.equal(map.get('a'), 0, 'read now: used again');
    map.set('e', 4);
    map.set('f', 5);
    assert.equal(map.has('a'), true, 'the key read stays');
    assert.equal(map.has('b'), false, 'the oldest not read is forgotten');
    assert.equal(map.get('f'), 5);
  });

  it('writes a key in place, deletes it, and keeps values that are undefined', () => {
    const map = new BoundedMap<string, number | undefined>(4);
    map.set('a', 1);
    map.set('a', 2);
    assert.equal(map.size, 1);
    assert.equal(map.get('a'), 2);
    map.set('u', undefined);
    assert.equal(map.has('u'), true);
    assert.equal(map.delete('a'), true);
    assert.equal(map.delete('a'), false);
    assert.equal(map.get('a'), undefined);
  });

  it('refuses a bound it cannot keep', () => {
    assert.throws(() => new BoundedMap(1), RangeError);
    assert.throws(() => new BoundedMap(2.5), RangeError);
  });
});

describe('ttl cache', () => {
  it('answers until the time to live is over, then loads again', async () => {
    const cache = new TtlCache<string, number>({ ttlMs: 30 });
    let loads = 0;
    const load = async () => ++loads;
    assert.equal(await cache.get('k', load), 1);
    assert.equal(await cache.get('k', load), 1, 'within its time: no load');
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(cache.peek('k'), undefined, 'lapsed');
    assert.equal(await cache.get('k', load), 2);
  });

  it('shares one load among concurrent misses, and holds at most its entries', async () => {
    const cache = new TtlCache<number, number>({ ttlMs: 60_000, maxEntries: 100 });
    let loads = 0;
    const load = async () => ++loads;
    await Promise.all([cache.get(1, load), cache.get(1, load), cache.get(1, load)]);
    assert.equal(loads, 1);
    for (let i = 0; i < 1000; i++) cache.set(i, i);
    const kept = Array.from({ length: 1000 }, (_, i) => cache.peek(i)).filter((v) => v !== undefined);
    assert.ok(kept.length <= 100 && kept.length >= 50, `${kept.length} kept`);
    assert.equal(cache.peek(999), 999, 'the newest are kept');
  });
});
