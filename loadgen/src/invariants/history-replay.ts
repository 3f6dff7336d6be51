import type { RowChange } from '../wal/pgoutput.ts';

/** The reservation edges the saga allows (docs/saga.md), kept here apart from the service's own table. */
const RESERVATION_EDGES = new Set([
  '→PENDING',
  'PENDING→CONFIRMED',
  'PENDING→CANCELLED',
  'PENDING→EXPIRED',
  'CONFIRMED→CANCELLED',
]);
const LIVE = new Set(['PENDING', 'CONFIRMED']);
/** What a seat's status says of its holder once a transaction has committed. */
const HOLDER_STATUS: Readonly<Record<string, string>> = { HELD: 'PENDING', SOLD: 'CONFIRMED' };

interface Seat {
  event: string;
  status: string;
  holder: string | null;
}

interface Reservation {
  event: string;
  user: string;
  status: string;
}

export interface HistoryFinding {
  problem: string;
  /** The commit that made the moment. */
  at: Date;
  seatId?: string;
  reservationId?: string;
  userId?: string;
}

export interface HistoryReplay {
  transactions: number;
  reservationMoves: number;
  seatChanges: number;
  /** Changes to rows the log never saw created (made before the capture began): their edges cannot be judged. */
  unseen: number;
  /** Windows the log could not see (a failover lost the slot), from the last commit read to the new slot. */
  gaps: Array<{ from: Date | undefined; to: Date }>;
  findings: HistoryFinding[];
}

/** A seat moves AVAILABLE → HELD (for r) → SOLD (to r), and back to AVAILABLE (from r); never from one holder to another. */
function seatEdgeProblem(from: Seat, to: Seat): string | undefined {
  if (from.status === 'AVAILABLE' && to.status === 'HELD' && to.holder !== null) return undefined;
  if (from.status === 'HELD' && to.status === 'SOLD' && from.holder !== null && from.holder === to.holder)
    return undefined;
  if ((from.status === 'HELD' || from.status === 'SOLD') && to.status === 'AVAILABLE' && to.holder === null)
    return undefined;
  return `seat moved ${from.status}(${from.holder ?? '-'}) → ${to.status}(${to.holder ?? '-'})`;
}

/**
 * ticket-service's seat, reservation and reservation_seats changes, replayed transaction by transaction in commit
 * order, as the WAL gives them. Every edge is judged as it happens, and the state is judged after every commit,
 * which is the only state another transaction can ever see:
 * - a seat HELD or SOLD names a reservation that lists it and is PENDING or CONFIRMED to match;
 * - a live reservation holds every seat it lists, and an ended one holds none (so a seat written outside the
 *   transaction of its reservation's move shows, however quickly it healed);
 * - no seat is listed by two live reservations;
 * - no fan holds more seats in live reservations than `limit`.
 */
export function replayHistory(log: readonly RowChange[], eventId: string, limit: number): HistoryReplay {
  const seats = new Map<string, Seat>();
  const reservations = new Map<string, Reservation>();
  const listed = new Map<string, string[]>(); // reservation → the seats it lists
  const listing = new Map<string, string[]>(); // seat → the live reservations listing it, in the order they went live
  const liveOfFan = new Map<string, Set<string>>();
  const overLimit = new Set<string>();
  const reported = new Set<string>();
  const out: HistoryReplay = {
    transactions: 0,
    reservationMoves: 0,
    seatChanges: 0,
    unseen: 0,
    gaps: [],
    findings: [],
  };
  /**
   * After a gap the replay starts over, as from a capture that began then: rows are judged from their next change
   * on, and a booking made before the gap is not judged against seats it listed then (the log lost that).
   */
  let afterGap = false;
  const madeSinceGap = new Set<string>();
  const judgeable = (reservationId: string) => !afterGap || madeSinceGap.has(reservationId);

  const live = (id: string | undefined) => id !== undefined && LIVE.has(reservations.get(id)?.status ?? '');
  const becameLive = (id: string, r: Reservation) => {
    for (const seat of listed.get(id) ?? []) listing.set(seat, [...(listing.get(seat) ?? []), id]);
    const fan = `${r.event}|${r.user}`;
    liveOfFan.set(fan, (liveOfFan.get(fan) ?? new Set()).add(id));
  };
  const ended = (id: string, r: Reservation) => {
    for (const seat of listed.get(id) ?? [])
      listing.set(
        seat,
        (listing.get(seat) ?? []).filter((other) => other !== id),
      );
    liveOfFan.get(`${r.event}|${r.user}`)?.delete(id);
  };

  let i = 0;
  while (i < log.length) {
    const first = log[i]!;
    if (first.kind === 'gap') {
      out.gaps.push({ from: first.gapFrom, to: first.committedAt });
      for (const state of [seats, reservations, listed, listing, liveOfFan]) state.clear();
      overLimit.clear();
      madeSinceGap.clear();
      afterGap = true;
      i++;
      continue;
    }
    const xid = log[i]!.xid;
    const at = log[i]!.committedAt;
    const touchedSeats = new Set<string>();
    const touchedReservations = new Set<string>();
    const find = (f: Omit<HistoryFinding, 'at'>, event: string | undefined) => {
      if (event === eventId) out.findings.push({ ...f, at });
    };
    out.transactions++;
    for (; i < log.length && log[i]!.xid === xid; i++) {
      const c = log[i]!;
      if (c.table === 'seats') {
        const id = c.row.id ?? '';
        const before = seats.get(id);
        if (c.kind === 'delete') {
          find({ seatId: id, problem: 'seat deleted' }, before?.event);
          continue;
        }
        const after: Seat = {
          event: c.row.event_id ?? '',
          status: c.row.status ?? '',
          holder: c.row.reservation_id ?? null,
        };
        seats.set(id, after);
        if (c.kind === 'insert') {
          if (after.status !== 'AVAILABLE' || after.holder !== null)
            find(
              { seatId: id, problem: `seat created ${after.status}(${after.holder ?? '-'})` },
              after.event,
            );
        } else if (before === undefined) {
          if (after.event === eventId) out.unseen++;
        } else if (before.status !== after.status || before.holder !== after.holder) {
          if (after.event === eventId) out.seatChanges++;
          const problem = seatEdgeProblem(before, after);
          if (problem !== undefined) find({ seatId: id, problem }, after.event);
        }
        touchedSeats.add(id);
        for (const holder of [before?.holder, after.holder]) if (holder) touchedReservations.add(holder);
      } else if (c.table === 'reservations') {
        const id = c.row.id ?? '';
        const before = reservations.get(id);
        if (c.kind === 'delete') {
          find({ reservationId: id, problem: 'reservation deleted' }, before?.event);
          continue;
        }
        const after: Reservation = {
          event: c.row.event_id ?? '',
          user: c.row.user_id ?? '',
          status: c.row.status ?? '',
        };
        reservations.set(id, after);
        if (c.kind === 'insert') madeSinceGap.add(id);
        touchedReservations.add(id);
        if (c.kind === 'update' && before === undefined) {
          if (after.event === eventId) out.unseen++;
          if (LIVE.has(after.status)) becameLive(id, after);
          continue;
        }
        const from = before?.status ?? '';
        if (from === after.status) continue;
        if (after.event === eventId) out.reservationMoves++;
        if (!RESERVATION_EDGES.has(`${from}→${after.status}`))
          find({ reservationId: id, problem: `reservation moved ${from}→${after.status}` }, after.event);
        if (LIVE.has(after.status) && !LIVE.has(from)) becameLive(id, after);
        else if (!LIVE.has(after.status) && LIVE.has(from)) ended(id, after);
      } else if (c.table === 'reservation_seats') {
        const id = c.row.reservation_id ?? '';
        const seat = c.row.seat_id ?? '';
        if (c.kind !== 'insert') {
          find(
            { reservationId: id, seatId: seat, problem: `a listed seat ${c.kind}d` },
            seats.get(seat)?.event,
          );
          continue;
        }
        listed.set(id, [...(listed.get(id) ?? []), seat]);
        if (live(id)) listing.set(seat, [...(listing.get(seat) ?? []), id]);
        touchedReservations.add(id);
        touchedSeats.add(seat);
      }
    }

    // The state this commit left, as any other transaction would read it.
    for (const id of touchedReservations) for (const seat of listed.get(id) ?? []) touchedSeats.add(seat);
    for (const id of touchedSeats) {
      const seat = seats.get(id);
      if (seat === undefined || seat.event !== eventId) continue;
      const expected = HOLDER_STATUS[seat.status];
      if (expected !== undefined && seat.holder !== null && judgeable(seat.holder)) {
        const holder = reservations.get(seat.holder);
        if (holder?.status !== expected)
          find(
            {
              seatId: id,
              reservationId: seat.holder,
              problem: `seat ${seat.status} for a reservation that is ${holder?.status ?? 'unknown'}`,
            },
            seat.event,
          );
        else if (!(listed.get(seat.holder) ?? []).includes(id))
          find(
            {
              seatId: id,
              reservationId: seat.holder,
              problem: 'seat held for a reservation that does not list it',
            },
            seat.event,
          );
      }
      const holders = listing.get(id) ?? [];
      for (let k = 1; k < holders.length; k++) {
        const key = `${id}|${holders[0]}|${holders[k]}`;
        if (reported.has(key)) continue;
        reported.add(key);
        find(
          { seatId: id, problem: `in two live reservations at once: ${holders[0]} and ${holders[k]}` },
          seat.event,
        );
      }
    }
    const fans = new Set<string>();
    for (const id of touchedReservations) {
      const r = reservations.get(id);
      if (r === undefined || r.event !== eventId || !judgeable(id)) continue;
      fans.add(`${r.event}|${r.user}`);
      const want = r.status === 'PENDING' ? 'HELD' : r.status === 'CONFIRMED' ? 'SOLD' : undefined;
      for (const seatId of listed.get(id) ?? []) {
        const seat = seats.get(seatId);
        if (seat === undefined) continue;
        if (want !== undefined && (seat.holder !== id || seat.status !== want))
          find(
            {
              reservationId: id,
              seatId,
              problem: `reservation ${r.status} while its seat is ${seat.status}(${seat.holder ?? '-'})`,
            },
            r.event,
          );
        else if (want === undefined && seat.holder === id)
          find(
            {
              reservationId: id,
              seatId,
              problem: `reservation ${r.status} while its seat is still ${seat.status} for it`,
            },
            r.event,
          );
      }
    }
    for (const fan of fans) {
      let held = 0;
      for (const id of liveOfFan.get(fan) ?? []) held += listed.get(id)?.length ?? 0;
      if (held <= limit) overLimit.delete(fan);
      else if (!overLimit.has(fan)) {
        overLimit.add(fan);
        const userId = fan.slice(fan.indexOf('|') + 1);
        find({ userId, problem: `held ${held} seats at once, limit ${limit}` }, eventId);
      }
    }
  }
  return out;
}
