import type { HttpClient } from './http-client.ts';
import type { MapSeat } from './seat-choice.ts';

/**
 * The load generator's copy of an event's seat map, revalidated with If-None-Match. Every virtual user reads it
 * through the server (one request each), but an unchanged map costs a 304 instead of the full JSON, as a browser
 * cache or CDN would make it.
 */
export class SeatMapView {
  #etag: string | undefined;
  #seats: MapSeat[] = [];
  readonly #http: HttpClient;
  readonly #url: string;

  constructor(http: HttpClient, ticketUrl: string, eventId: string) {
    this.#http = http;
    this.#url = `${ticketUrl}/api/events/${eventId}/seats`;
  }

  async read(): Promise<MapSeat[]> {
    const res = await this.#http.get<MapSeat[]>(
      this.#url,
      this.#etag ? { headers: { 'if-none-match': this.#etag } } : {},
    );
    if (res.status === 200) {
      this.#seats = res.body;
      this.#etag = String(res.headers.etag ?? '');
    }
    return this.#seats;
  }
}
