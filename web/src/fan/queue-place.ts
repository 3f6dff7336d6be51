/** A fan's place in one event's queue, as their join gave it: kept, so a reload finds it without asking anyone. */
export interface KeptPlace {
  userId: string;
  eventId: string;
  /** The place, signed: sent as X-Queue-Ticket when the fan asks the origin for their own place. */
  queueTicket: string;
  /** The join number the ticket carries, and its draw: with the shared status, the page works out the place. */
  number: number;
  draw: number;
}

/** Where the page keeps state across a reload: sessionStorage, as it keeps the session (session.ts). */
export interface PlaceStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const keyOf = (eventId: string) => `reservex.queue.${eventId}`;

function isKeptPlace(value: unknown): value is KeptPlace {
  const v = value as Partial<KeptPlace> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.userId === 'string' &&
    typeof v.eventId === 'string' &&
    typeof v.queueTicket === 'string' &&
    v.queueTicket !== '' &&
    typeof v.number === 'number' &&
    Number.isInteger(v.number) &&
    v.number >= 1 &&
    typeof v.draw === 'number' &&
    v.draw >= 0 &&
    v.draw < 1
  );
}

/**
 * The places this tab holds, one per event: in memory for the page's life, and in `storage` for a reload. Storage
 * may refuse (full, or disabled): the memory copy then serves, and a reload that finds nothing joins again, which
 * gives the same place back. A place is its fan's: the ticket is signed for them, so another fan signed in to the
 * same tab finds none.
 */
export function placeKeeper(storage: PlaceStorage) {
  const memory = new Map<string, KeptPlace>();
  return {
    read(userId: string, eventId: string): KeptPlace | undefined {
      let place = memory.get(eventId);
      if (place === undefined) {
        try {
          const parsed: unknown = JSON.parse(storage.getItem(keyOf(eventId)) ?? 'null');
          if (isKeptPlace(parsed) && parsed.eventId === eventId) place = parsed;
        } catch {
          // Unreadable: as if nothing were kept.
        }
      }
      return place?.userId === userId ? place : undefined;
    },

    keep(place: KeptPlace): void {
      memory.set(place.eventId, place);
      try {
        storage.setItem(keyOf(place.eventId), JSON.stringify(place));
      } catch {
        // The memory copy serves until a reload.
      }
    },

    forget(eventId: string): void {
      memory.delete(eventId);
      try {
        storage.removeItem(keyOf(eventId));
      } catch {
        // Nothing was kept there.
      }
    },
  };
}

export type PlaceKeeper = ReturnType<typeof placeKeeper>;

let tabPlaces: PlaceKeeper | undefined;

/** This tab's places, kept beside its session (sessionStorage): another tab joins on its own, and gets the same place. */
export function keptPlaces(): PlaceKeeper {
  tabPlaces ??= placeKeeper(sessionStorage);
  return tabPlaces;
}
