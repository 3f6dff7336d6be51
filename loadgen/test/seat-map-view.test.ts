import assert from 'node:assert/strict';
import { httpClient } from '../src/fans/http-client.ts';
import type { MapSeat } from '../src/fans/seat-choice.ts';
import { SeatMapView } from '../src/fans/seat-map-view.ts';
import { Recorder } from '../src/run/recorder.ts';
import { standIn } from './stand-in.ts';

/** A stand-in origin with a map of three seats whose statuses the test changes, counting what it was asked. */
async function origin() {
  const seats: MapSeat[] = ['s1', 's2', 's3'].map((id, i) => ({
    id,
    section: 'A',
    row: 'A',
    number: i + 1,
    price: 100,
    status: 'AVAILABLE',
  }));
  const asked: string[] = [];
  const state = { version: 1, extra: '' };
  const server = await standIn((req, res) => {
    asked.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    if (req.url === '/api/events/e/seats') return res.end(JSON.stringify(seats));
    if (req.url === '/api/events/e/seats/availability') {
      const etag = `"statuses-${state.version}"`;
      res.setHeader('etag', etag);
      if (req.headers['if-none-match'] === etag) {
        res.statusCode = 304;
        return res.end();
      }
      const statuses = seats.map((s) => s.status[0]).join('') + state.extra;
      return res.end(JSON.stringify({ version: state.version, statuses }));
    }
    res.statusCode = 404;
    res.end('{}');
  });
  return { url: server.url, seats, asked, state, close: server.close };
}

describe('the seat map the fans share', () => {
  it('is read whole once, then kept up to date from its statuses alone; read whole again when they do not fit', async () => {
    const venue = await origin();
    const http = httpClient(new Recorder(1), 2);
    try {
      const view = new SeatMapView(http, venue.url, 'e', 0);
      const statuses = async () => (await view.read()).map((s) => s.status);
      const first = await view.read();
      assert.deepEqual(await statuses(), ['AVAILABLE', 'AVAILABLE', 'AVAILABLE']);
      // The origin's seats change: the view hears it from the statuses.
      venue.seats[0]!.status = 'SOLD';
      venue.seats[2]!.status = 'HELD';
      venue.state.version = 2;
      assert.deepEqual(await statuses(), ['SOLD', 'AVAILABLE', 'HELD']);
      assert.deepEqual(
        first.map((s) => s.status),
        ['AVAILABLE', 'AVAILABLE', 'AVAILABLE'],
        'a copy handed out before stays as it was',
      );
      // Unchanged: a 304, and the map stands.
      assert.deepEqual(await statuses(), ['SOLD', 'AVAILABLE', 'HELD']);
      assert.deepEqual(venue.asked, [
        '/api/events/e/seats',
        '/api/events/e/seats/availability',
        '/api/events/e/seats/availability',
        '/api/events/e/seats/availability',
      ]);
      // Statuses of another length (the map changed shape): the whole map again.
      venue.state.version = 3;
      venue.state.extra = 'A';
      venue.seats[1]!.status = 'SOLD';
      assert.deepEqual(await statuses(), ['SOLD', 'SOLD', 'HELD']);
      assert.equal(venue.asked.at(-1), '/api/events/e/seats');
      assert.equal(view.wholeReads, 2);
    } finally {
      await http.close();
      venue.close();
    }
  });
});
