import type { HttpClient } from './http-client.ts';
import type { MapSeat } from './seat-choice.ts';

/**
 * The seat map as fans see it through a CDN edge: one shared copy, revalidated against the origin (with
 * If-None-Match) at most every `maxAgeMs`, however many fans look. Without it, 20,000 fans each holding their
 * own parsed 2,000-seat map ran the load generator out of memory, and the run measured JSON parsing.
 */
export class SeatMapView {
  #etag: string | undefined;
  #seats: MapSeat[] = [];
  #fetchedAt = 0;
  #inFlight: Promise<MapSeat[]> | undefined;
  readonly #http: HttpClient;
  readonly #url: string;
  readonly #maxAgeMs: number;
  views = 0;
  originRequests = 0;

  constructor(http: HttpClient, ticketUrl: string, eventId: string, maxAgeMs = 250) {
    this.#http = http;
    this.#url = `${ticketUrl}/api/events/${eventId}/seats`;
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
    const res = await this.#http.get<MapSeat[]>(
      this.#url,
      this.#etag ? { headers: { 'if-none-match': this.#etag } } : {},
    );
    if (res.status === 200) {
      this.#seats = res.body;
      this.#etag = String(res.headers.etag ?? '');
    }
    this.#fetchedAt = Date.now();
    return this.#seats;
  }
}
