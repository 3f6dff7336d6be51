import { replayHistory } from './history-replay.ts';
import { type InvariantCheck, verdict } from './types.ts';

/**
 * ticket-service's own writes during the run, read from its WAL by the run's change capture (no trigger or audit
 * table on the hot path) and replayed commit by commit: every edge legal, and the state after each commit
 * consistent, so a seat in two live reservations for a moment, a seat written outside its reservation's
 * transaction or a fan over the limit shows even when the final state hides it.
 */
export const historyConsistent: InvariantCheck = {
  name: 'history-consistent',
  title: 'History consistent, at every commit',
  async run({ ticket, eventId, changes, changesUnavailable }) {
    const log = changes?.get('ticket');
    if (log === undefined)
      return { verdict: 'SKIP', detail: changesUnavailable ?? 'no change log for this run', examples: [] };
    const { rows } = await ticket.query('SELECT max_seats_per_user AS limit FROM events WHERE id = $1', [
      eventId,
    ]);
    const replay = replayHistory(log, eventId, rows[0]?.limit ?? Infinity);
    // Changes to rows made before the capture began, or before a window it lost, cannot be judged: say how many,
    // never pass over them quietly.
    const blind =
      replay.unseen === 0
        ? ''
        : `; ${replay.unseen} change(s) to rows made before the change capture began${replay.gaps.length > 0 ? ' or before a window it lost' : ''} could not be judged`;
    // A window lost with a failed primary's slot is named, with how long it was, in a pass as in a failure.
    const lost = replay.gaps
      .map(
        (g) =>
          `; the WAL from ${g.from?.toISOString() ?? 'the start'} to ${g.to.toISOString()}${g.from === undefined ? '' : ` (${((g.to.getTime() - g.from.getTime()) / 1000).toFixed(1)} s)`} could not be read (the slot was lost with the primary) and rows were judged again from their next change after it`,
      )
      .join('');
    return verdict(
      replay.findings,
      `${replay.reservationMoves} reservation move(s) and ${replay.seatChanges} seat change(s) in ${replay.transactions} transaction(s) replayed from the WAL: every edge legal, and after every commit no seat in two live reservations, no seat apart from its reservation and no fan over the limit${blind}${lost}`,
      (n) => `${n} moment(s) in the history that the final state no longer shows${blind}${lost}`,
    );
  },
};
