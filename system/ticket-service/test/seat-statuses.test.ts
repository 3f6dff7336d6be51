import assert from 'node:assert/strict';
import { type SeatStatus, withStatuses } from '../src/domain/seat-statuses.ts';
import type { Seat } from '../src/store/seats.ts';

const seat = (id: string, status: SeatStatus): Seat => ({
  id,
  section: 'Floor',
  row: 'A',
  number: Number(id.slice(1)),
  price: 250_000,
  status,
});

describe('the seat map kept up to date from its statuses', () => {
  it('puts each letter on its seat, new objects for the seats that moved only', () => {
    const held = [seat('s1', 'AVAILABLE'), seat('s2', 'AVAILABLE'), seat('s3', 'HELD')];
    const next = withStatuses(held, 'SAA');
    assert.deepEqual(
      next?.map((s) => s.status),
      ['SOLD', 'AVAILABLE', 'AVAILABLE'],
    );
    assert.notEqual(next?.[0], held[0]);
    assert.equal(next?.[1], held[1], 'a seat that did not move keeps its object');
    assert.equal(held[0]?.status, 'AVAILABLE', 'the map held is not changed');
  });

  it('answers nothing when the letters do not fit the map, so the page reads it whole', () => {
    const held = [seat('s1', 'AVAILABLE'), seat('s2', 'SOLD')];
    assert.equal(withStatuses(held, 'A'), undefined);
    assert.equal(withStatuses(held, 'AAA'), undefined);
    assert.equal(withStatuses(held, 'AX'), undefined);
  });
});
