import type { Pool } from '@reservex/kit';
import { seatMap, seatMapVersion } from '../store/seats.ts';

interface Snapshot {
  version: number;
  etag: string;
  body: string;
  checkedAt: number;
}

/**
 * The seat map under a flash crowd: at most one cheap version query per event per `ttlMs`, however many
 * people ask, and the full map is read again only when a seat has changed. The body is serialised once and
 * shared; clients that send If-None-Match get a 304.
 */
export class SeatMaps {
  readonly #pool: Pool;
  readonly #ttlMs: number;
  readonly #snapshots = new Map<string, Snapshot>();
  readonly #inFlight = new Map<string, Promise<Snapshot>>();

  constructor(pool: Pool, ttlMs: number) {
    this.#pool = pool;
    this.#ttlMs = ttlMs;
  }

  get(eventId: string): Promise<Snapshot> {
    const cached = this.#snapshots.get(eventId);
    if (cached !== undefined && Date.now() - cached.checkedAt < this.#ttlMs) return Promise.resolve(cached);
    let pending = this.#inFlight.get(eventId);
    if (pending === undefined) {
      pending = this.#refresh(eventId, cached).finally(() => this.#inFlight.delete(eventId));
      this.#inFlight.set(eventId, pending);
    }
    return pending;
  }

  async #refresh(eventId: string, cached: Snapshot | undefined): Promise<Snapshot> {
    if (cached !== undefined && (await seatMapVersion(this.#pool, eventId)) === cached.version) {
      cached.checkedAt = Date.now();
      return cached;
    }
    const map = await seatMap(this.#pool, eventId);
    const snapshot = {
      version: map.version,
      etag: `"seats-${map.version}"`,
      body: JSON.stringify(map.seats),
      checkedAt: Date.now(),
    };
    this.#snapshots.set(eventId, snapshot);
    return snapshot;
  }
}
