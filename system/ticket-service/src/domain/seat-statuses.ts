/** A seat's status, as the map shows it. */
export type SeatStatus = 'AVAILABLE' | 'HELD' | 'SOLD';

/** The letter of each status in …/seats/availability: the first of its name. */
export const STATUS_OF_LETTER: Readonly<Record<string, SeatStatus>> = {
  A: 'AVAILABLE',
  H: 'HELD',
  S: 'SOLD',
};

/**
 * A seat map held by a client, with the statuses of …/seats/availability (a letter a seat, in the map's order) put
 * on it: a new array, and new objects for the seats that moved only, so a copy handed out before stays as it was
 * and a page's rows whose seats did not move keep theirs. Undefined when the letters do not fit the map (another
 * length, a letter unknown): the client reads the whole map again.
 */
export function withStatuses<T extends { status: SeatStatus }>(
  seats: readonly T[],
  statuses: string,
): T[] | undefined {
  if (statuses.length !== seats.length) return undefined;
  const next = seats.slice();
  for (let i = 0; i < statuses.length; i++) {
    const status = STATUS_OF_LETTER[statuses[i] as string];
    if (status === undefined) return undefined;
    const seat = next[i] as T;
    if (seat.status !== status) next[i] = { ...seat, status };
  }
  return next;
}
