import assert from 'node:assert/strict';
import { type KeptPlace, type PlaceStorage, placeKeeper } from '../src/fan/queue-place.ts';

const EVENT = '00000000-0000-4000-8000-000000000001';
const OTHER_EVENT = '00000000-0000-4000-8000-000000000002';

/** sessionStorage as a map; `refusing` makes every write throw, as a full or disabled storage does. */
function aStorage(options: { refusing?: boolean } = {}): PlaceStorage & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => {
      if (options.refusing) throw new Error('QuotaExceededError');
      items.set(key, value);
    },
    removeItem: (key) => {
      items.delete(key);
    },
  };
}

const aPlace = (overrides: Partial<KeptPlace> = {}): KeptPlace => ({
  userId: 'fan-1',
  eventId: EVENT,
  queueTicket: 'eyJ.signed.place',
  number: 131,
  draw: 0.25,
  ...overrides,
});

describe('web: the page keeps the fan’s place in line', () => {
  it('a reload finds the place the join gave, for that event only', () => {
    const storage = aStorage();
    placeKeeper(storage).keep(aPlace());
    // A new page (a reload) starts with empty memory: the storage has it.
    const reloaded = placeKeeper(storage);
    assert.deepEqual(reloaded.read('fan-1', EVENT), aPlace());
    assert.equal(reloaded.read('fan-1', OTHER_EVENT), undefined);
  });

  it('another fan signed in to the same tab finds no place: the ticket is signed for its own fan', () => {
    const storage = aStorage();
    const places = placeKeeper(storage);
    places.keep(aPlace());
    assert.equal(places.read('fan-2', EVENT), undefined);
    assert.equal(placeKeeper(storage).read('fan-2', EVENT), undefined);
  });

  it('a new join replaces the place, and a forgotten place is gone after a reload too', () => {
    const storage = aStorage();
    const places = placeKeeper(storage);
    places.keep(aPlace());
    places.keep(aPlace({ queueTicket: 'eyJ.new.place', number: 900 }));
    assert.equal(placeKeeper(storage).read('fan-1', EVENT)?.number, 900);
    places.forget(EVENT);
    assert.equal(places.read('fan-1', EVENT), undefined);
    assert.equal(placeKeeper(storage).read('fan-1', EVENT), undefined);
  });

  it('when storage refuses, the page still holds the place in memory', () => {
    const places = placeKeeper(aStorage({ refusing: true }));
    places.keep(aPlace());
    assert.deepEqual(places.read('fan-1', EVENT), aPlace());
  });

  it('what is not a place (garbled, another event’s, no ticket) is read as none', () => {
    const storage = aStorage();
    const key = `reservex.queue.${EVENT}`;
    for (const raw of [
      '{not json',
      JSON.stringify({ ...aPlace(), eventId: OTHER_EVENT }),
      JSON.stringify({ ...aPlace(), queueTicket: '' }),
      JSON.stringify({ ...aPlace(), number: 0 }),
      JSON.stringify({ ...aPlace(), number: '131' }),
      'null',
    ]) {
      storage.items.set(key, raw);
      assert.equal(placeKeeper(storage).read('fan-1', EVENT), undefined, raw);
    }
  });
});
