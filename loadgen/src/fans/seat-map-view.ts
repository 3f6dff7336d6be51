import { withStatuses } from '@reservex/ticket-service/seat-statuses';
import type { HttpClient } from './http-client.ts';
import type { MapSeat } from './seat-choice.ts';

/**
 * The seat map as fans see it through a CDN edge: one shared copy, revalidated against the origin (with
 * If-None-Match) at most every `maxAgeMs`, however many fans look. Without it, 20,000 fans each holding their
 * own parsed 2,000-seat map ran the load generator out of memory, and the run measured JSON parsing.
 *
 * The map is read whole once; after that only its statuses (…/seats/availability, a letter a seat), as a fan's
 * page that holds the map would. At 50,000 seats the whole map is 6 MB and 50,000 objects a read, twice a second
 * through a sale: each copy outlived a young collection, and the full collections of a generator holding a million
 * fans took more of its CPU than the fans did.
 */
export class SeatMapView {
  #etag: string | undefined;
  #seats: MapSeat[] = [];
  #fetchedAt = 0;
  #inFlight: Promise<MapSeat[]> | undefined;
  readonly #http: HttpClient;
  readonly #mapUrl: string;
  readonly #statusesUrl: string;
  readonly #maxAgeMs: number;
  views = 0;
  originRequests = 0;
  /** Whole maps read: the first, and any whose statuses no longer fitted the map held. */
  wholeReads = 0;

  constructor(http: HttpClient, ticketUrl: string, eventId: string, maxAgeMs = 250) {
    this.#http = http;
    this.#mapUrl = `${ticketUrl}/api/events/${eventId}/seats`;
    this.#statusesUrl = `${this.#mapUrl}/availability`;
    this.#maxAgeMs = maxAgeMs;
  }

  async read(): Promise<MapSeat[]> {
    this.views++;
    if (Date.now() - this.#fetchedAt < this.#maxAgeMs) return this.#seats;
    this.#inFlight ??= this.#revalidate().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #revalidate(): Promise<MapSeat[]> {
    this.originRequests++;
    if (this.#seats.length === 0 || !(await this.#statuses())) await this.#whole();
    this.#fetchedAt = Date.now();
    return this.#seats;
  }

  async #whole(): Promise<void> {
    this.wholeReads++;
    const res = await this.#http.get<MapSeat[]>(this.#mapUrl);
    if (res.status !== 200) return;
    this.#seats = res.body;
    this.#etag = undefined;
  }

  /** The statuses over the map held; false when they do not fit it (another length, a letter unknown). */
  async #statuses(): Promise<boolean> {
    const res = await this.#http.get<{ statuses: string }>(
      this.#statusesUrl,
      this.#etag ? { headers: { 'if-none-match': this.#etag } } : {},
    );
    if (res.status === 304) return true;
    if (res.status !== 200) return true; // the map held stands, as a page's would; the next look asks again
    // A copy handed out before stays as it was, and the fans' shared index of the map (seat-choice.ts, keyed by
    // the array) is built again for the new one.
    const seats = withStatuses(this.#seats, res.body.statuses);
    if (seats === undefined) return false;
    this.#seats = seats;
    this.#etag = String(res.headers.etag ?? '');
    return true;
  }
}
