import { shuffle } from '../random.ts';
import type { Scenario } from '../scenario.ts';

export interface MapSeat {
  id: string;
  section: string;
  row: string;
  number: number;
  price: number;
  status: 'AVAILABLE' | 'HELD' | 'SOLD';
}

/**
 * Picks the seats a fan tries for, from what the seat map shows as available. "best-first" goes for the most
 * expensive section that still has enough seats, adjacent where it can; "hot-set" only ever wants the first
 * N seats of the venue, so everyone collides.
 */
export function chooseSeats(
  map: readonly MapSeat[],
  count: number,
  preference: Scenario['seats']['preference'],
  random: () => number,
  hotSetSize = 10,
): string[] {
  if (preference === 'random') {
    // Random tries first: in a venue of tens of thousands of seats, mostly free, a filter per fan was the load
    // generator's own bottleneck. The filter is the fallback when tries keep finding taken seats.
    const picked = new Set<MapSeat>();
    for (let tries = 0; tries < 64 && picked.size < count && map.length > 0; tries++) {
      const seat = map[Math.floor(random() * map.length)]!;
      if (seat.status === 'AVAILABLE') picked.add(seat);
    }
    if (picked.size === count) return [...picked].map((s) => s.id);
  }
  const { available, sectionsByPrice } = seatIndex(map);
  if (preference === 'hot-set') {
    const hot = map.slice(0, hotSetSize).filter((s) => s.status === 'AVAILABLE');
    return shuffle(hot, random)
      .slice(0, Math.min(count, hot.length))
      .map((s) => s.id);
  }
  if (available.length < count) return available.map((s) => s.id);
  if (preference === 'random') return sample(available, count, random).map((s) => s.id);
  const sections = sectionsByPrice.filter((seats) => seats.length >= count);
  // Most fans go for the best section that still has room, some settle for the next one down: the best
  // seats are where the contention is.
  const pick = sections.length > 1 && random() < 0.3 ? 1 : 0;
  const section = sections[pick] ?? sections[0] ?? available;
  // Any free seat in that section, plus its free neighbours: fans want to sit together.
  const start = Math.floor(random() * Math.max(1, section.length - count + 1));
  return section.slice(start, start + count).map((s) => s.id);
}

export interface SeatIndex {
  available: MapSeat[];
  /** The available seats of each section, dearest section first. */
  sectionsByPrice: MapSeat[][];
  /** Seats held: they come back if their payment fails or their hold runs out. */
  held: number;
}

/**
 * Every fan looking at the same copy of the map (SeatMapView shares one per revalidation) shares one index of it:
 * in a 50,000-seat venue, filtering and grouping the map per fan cost the load generator 2–5 ms a fan.
 */
const indexes = new WeakMap<readonly MapSeat[], SeatIndex>();

export function seatIndex(map: readonly MapSeat[]): SeatIndex {
  const known = indexes.get(map);
  if (known !== undefined) return known;
  // One pass, appending in place: a venue's sections run to tens of thousands of seats.
  const available: MapSeat[] = [];
  const bySection = new Map<string, MapSeat[]>();
  let held = 0;
  for (const seat of map) {
    if (seat.status === 'HELD') held++;
    if (seat.status !== 'AVAILABLE') continue;
    available.push(seat);
    const seats = bySection.get(seat.section);
    if (seats === undefined) bySection.set(seat.section, [seat]);
    else seats.push(seat);
  }
  const index = {
    available,
    held,
    sectionsByPrice: [...bySection.values()].sort((a, b) => (b[0]?.price ?? 0) - (a[0]?.price ?? 0)),
  };
  indexes.set(map, index);
  return index;
}

/** `count` distinct items drawn at random, without copying or shuffling the whole list. */
function sample<T>(items: readonly T[], count: number, random: () => number): T[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(count, items.length)) picked.add(Math.floor(random() * items.length));
  return [...picked].map((i) => items[i]!);
}
