import assert from 'node:assert/strict';
import { chooseSeats, type MapSeat, seatIndex } from '../src/fans/seat-choice.ts';

function venue(sections: { name: string; price: number; seats: number }[]): MapSeat[] {
  return sections.flatMap((s) =>
    Array.from({ length: s.seats }, (_, i) => ({
      id: `${s.name}-${i}`,
      section: s.name,
      row: String(Math.floor(i / 100)),
      number: (i % 100) + 1,
      price: s.price,
      status: 'AVAILABLE' as const,
    })),
  );
}

function seeded(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

describe('seat choice', () => {
  it('takes only available seats, distinct, as many as asked', () => {
    const map = venue([{ name: 'A', price: 10, seats: 50 }]).map((s, i) => ({
      ...s,
      status: i % 2 === 0 ? ('SOLD' as const) : ('AVAILABLE' as const),
    }));
    for (const preference of ['random', 'best-first'] as const) {
      const picked = chooseSeats(map, 4, preference, seeded(7));
      assert.equal(picked.length, 4);
      assert.equal(new Set(picked).size, 4);
      for (const id of picked) assert.equal(map.find((s) => s.id === id)?.status, 'AVAILABLE');
    }
  });

  it('best-first goes for the dearest section with room, side by side', () => {
    const map = venue([
      { name: 'R', price: 100, seats: 30 },
      { name: 'VIP', price: 300, seats: 30 },
    ]);
    const picks = Array.from({ length: 20 }, (_, i) => chooseSeats(map, 2, 'best-first', seeded(i + 1)));
    const vip = picks.filter((p) => p.every((id) => id.startsWith('VIP-'))).length;
    assert.ok(vip >= 10, `most fans chose VIP (${vip} of 20)`);
    for (const [a, b] of picks) {
      const [sa, na] = a!.split('-');
      const [sb, nb] = b!.split('-');
      assert.equal(sa, sb);
      assert.equal(Number(nb) - Number(na), 1, 'adjacent');
    }
  });

  it('indexes a map once for every fan looking at it: available seats by section, dearest first, and the held', () => {
    const map = venue([
      { name: 'R', price: 100, seats: 4 },
      { name: 'VIP', price: 300, seats: 4 },
    ]).map((s, i) => ({ ...s, status: (['AVAILABLE', 'HELD', 'SOLD'] as const)[i % 3]! }));
    const index = seatIndex(map);
    assert.equal(seatIndex(map), index, 'the same copy of the map is indexed once');
    assert.deepEqual(
      index.sectionsByPrice.map((seats) => seats.map((s) => s.id)),
      [['VIP-2'], ['R-0', 'R-3']],
    );
    assert.equal(index.available.length, 3);
    assert.equal(index.held, 3);
    assert.notEqual(seatIndex([...map]), index, 'a new copy of the map is indexed anew');
  });

  it('chooses from a stadium section of 100,000 seats for many fans (linear: the quadratic version never returned)', () => {
    const map = venue([{ name: 'Floor', price: 150, seats: 100_000 }]);
    const random = seeded(3);
    for (let fan = 0; fan < 20; fan++) {
      assert.equal(chooseSeats(map, 2, 'best-first', random).length, 2);
      assert.equal(chooseSeats(map, 2, 'random', random).length, 2);
    }
  });
});
