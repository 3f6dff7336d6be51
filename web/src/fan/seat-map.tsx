import { withStatuses } from '@reservex/ticket-service/seat-statuses';
import { memo } from 'preact/compat';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { problemOf, rawRequest } from '../api.ts';
import { money, useI18n } from '../i18n.ts';
import type { Seat } from '../types.ts';

const REFRESH_MS = 2000;

/**
 * Every seat of the event with its status: the whole map once, then its statuses alone every few seconds
 * (…/seats/availability, a letter a seat: 50 KB where the map is 6 MB at 50,000 seats), with If-None-Match, so an
 * unchanged map costs a 304. `refresh` forces a read (after a 409, the seat someone else took).
 */
export function useSeatMap(eventId: string, refresh: number): Seat[] | undefined {
  const [seats, setSeats] = useState<Seat[]>();
  const held = useRef<{ eventId: string; seats: Seat[] } | undefined>(undefined);
  const etag = useRef<string | null>(null);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const read = async () => {
      let wait = REFRESH_MS;
      const map = held.current?.eventId === eventId ? held.current.seats : undefined;
      try {
        const path = `/api/events/${eventId}/seats${map === undefined ? '' : '/availability'}`;
        const res = await rawRequest('ticket', path, {
          headers: etag.current === null ? {} : { 'if-none-match': etag.current },
        });
        if (res.status === 200) {
          const next =
            map === undefined
              ? ((await res.json()) as Seat[])
              : withStatuses(map, ((await res.json()) as { statuses: string }).statuses);
          // Statuses that no longer fit the map held: the whole map, at once.
          etag.current = next === undefined ? null : res.headers.get('etag');
          held.current = next === undefined ? undefined : { eventId, seats: next };
          if (next === undefined) wait = 0;
          else if (!stopped) setSeats(next);
        } else if (res.status !== 304) {
          const problem = await problemOf(res);
          wait = (problem.retryAfterSeconds ?? 2) * 1000;
        }
      } catch {
        wait = REFRESH_MS * 2;
      }
      if (!stopped) timer = setTimeout(() => void read(), wait);
    };
    etag.current = null;
    void read();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [eventId, refresh]);
  return seats;
}

interface RowProps {
  row: string;
  seats: Seat[];
  r: number;
  /** The ids chosen in this row, joined: a row re-renders only when its own seats or choices change. */
  chosen: string;
  /** The column that is in the tab order, or -1 when the focus is on another row. */
  focusColumn: number;
  currency: string;
  onToggle: (seat: Seat) => void;
  onKey: (e: KeyboardEvent, r: number, c: number) => void;
  onFocus: (r: number, c: number) => void;
}

const SeatRow = memo(function SeatRow(props: RowProps) {
  const { t, lang } = useI18n();
  const chosen = new Set(props.chosen === '' ? [] : props.chosen.split(','));
  return (
    <div class="seat-row">
      <span class="row-label" aria-hidden="true">
        {props.row}
      </span>
      {props.seats.map((seat, c) => {
        const mine = chosen.has(seat.id);
        const free = seat.status === 'AVAILABLE';
        return (
          <button
            type="button"
            key={seat.id}
            class={`seat seat-${mine ? 'mine' : seat.status.toLowerCase()}`}
            data-pos={`${props.r}-${c}`}
            data-seat={`${seat.section}-${seat.row}-${seat.number}`}
            tabIndex={props.focusColumn === c ? 0 : -1}
            aria-pressed={mine}
            aria-disabled={!free && !mine}
            aria-label={t('seats.seat', {
              section: seat.section,
              row: seat.row,
              number: seat.number,
              price: money(seat.price, props.currency, lang),
              status: free || mine ? t('seats.available') : t('seats.taken'),
            })}
            onKeyDown={(e) => props.onKey(e, props.r, c)}
            onFocus={() => props.onFocus(props.r, c)}
            onClick={() => (free || mine) && props.onToggle(seat)}
          >
            {seat.number}
          </button>
        );
      })}
    </div>
  );
});

/**
 * One section's seats as a grid. One seat is in the tab order at a time (a roving tabindex): Tab enters and
 * leaves the map, the arrow keys move within it, Space or Enter chooses. Rows are memoised: choosing a seat
 * redraws its row, not the section (a section can hold thousands of seats, and the click must stay quick).
 */
export function SeatGrid(props: {
  seats: Seat[];
  currency: string;
  selected: ReadonlySet<string>;
  onToggle: (seat: Seat) => void;
}) {
  const { t } = useI18n();
  // A refreshed map is a new array every time; a row whose seats did not change keeps its old array, so only the
  // rows where something was taken or freed redraw (a redraw of thousands of seats would hold up a fan's click).
  const previous = useRef(new Map<string, { key: string; seats: Seat[] }>());
  const rows = useMemo(() => {
    const byRow = new Map<string, Seat[]>();
    for (const seat of props.seats) {
      const row = byRow.get(seat.row) ?? [];
      row.push(seat);
      byRow.set(seat.row, row);
    }
    const next = new Map<string, { key: string; seats: Seat[] }>();
    const result = [...byRow.entries()].map(([row, seats]) => {
      seats.sort((a, b) => a.number - b.number);
      const key = seats.map((seat) => `${seat.id}:${seat.status}`).join(',');
      const kept = previous.current.get(row);
      const same = kept !== undefined && kept.key === key ? kept : { key, seats };
      next.set(row, same);
      return { row, seats: same.seats };
    });
    previous.current = next;
    return result;
  }, [props.seats]);
  const [focus, setFocus] = useState<[number, number]>([0, 0]);
  const grid = useRef<HTMLFieldSetElement>(null);
  // The rows get stable callbacks that read the latest state, so memo can skip them.
  const latest = useRef({ rows, onToggle: props.onToggle });
  latest.current = { rows, onToggle: props.onToggle };
  const onToggle = useCallback((seat: Seat) => latest.current.onToggle(seat), []);
  const onFocus = useCallback((r: number, c: number) => setFocus([r, c]), []);
  const onKey = useCallback((e: KeyboardEvent, r: number, c: number) => {
    const all = latest.current.rows;
    const delta: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    let next: [number, number] | undefined;
    const d = delta[e.key];
    if (d !== undefined) {
      const nr = Math.min(all.length - 1, Math.max(0, r + d[0]));
      const width = all[nr]?.seats.length ?? 1;
      next = [nr, Math.min(width - 1, Math.max(0, d[0] === 0 ? c + d[1] : c))];
    } else if (e.key === 'Home') next = [r, 0];
    else if (e.key === 'End') next = [r, (all[r]?.seats.length ?? 1) - 1];
    if (next === undefined) return;
    e.preventDefault();
    setFocus(next);
    grid.current?.querySelector<HTMLButtonElement>(`[data-pos="${next[0]}-${next[1]}"]`)?.focus();
  }, []);

  return (
    <fieldset class="seat-grid" ref={grid} aria-describedby="seat-keys">
      <legend class="visually-hidden">{props.seats[0]?.section ?? ''}</legend>
      <p id="seat-keys" class="visually-hidden">
        {t('seats.keys')}
      </p>
      {rows.map(({ row, seats }, r) => (
        <SeatRow
          key={row}
          row={row}
          seats={seats}
          r={r}
          chosen={seats
            .filter((s) => props.selected.has(s.id))
            .map((s) => s.id)
            .join(',')}
          focusColumn={focus[0] === r ? focus[1] : -1}
          currency={props.currency}
          onToggle={onToggle}
          onKey={onKey}
          onFocus={onFocus}
        />
      ))}
    </fieldset>
  );
}
