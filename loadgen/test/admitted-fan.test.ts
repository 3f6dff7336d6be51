import assert from 'node:assert/strict';
import { createTracing, tracingConfigSchema } from '@reservex/kit';
import { waitFor } from '@reservex/kit/testing';
import { defaultTargets } from '@reservex/stack';
import { TokenPool } from '../src/fans/adversaries.ts';
import { httpClient } from '../src/fans/http-client.ts';
import type { MapSeat } from '../src/fans/seat-choice.ts';
import { SeatMapView } from '../src/fans/seat-map-view.ts';
import { afterQueue, type Fan, type RunContext } from '../src/fans/virtual-user.ts';
import { waitingFans } from '../src/fans/waiting-fans.ts';
import { seededRandom } from '../src/random.ts';
import { Recorder } from '../src/run/recorder.ts';
import { loadScenario } from '../src/scenario.ts';
import { standIn } from './stand-in.ts';

const tracer = createTracing('admitted-fan-test', tracingConfigSchema.parse({})).tracer;

/**
 * A stand-in ticket-service with one seat: its map, bookings of it (confirmed at once), and a fan's own place, which
 * records the queue ticket each look showed and puts the seat back on sale.
 */
async function oneSeatVenue() {
  const seat: MapSeat = { id: 's1', section: 'A', row: 'A', number: 1, price: 100, status: 'SOLD' };
  const bookings: string[][] = [];
  const looks: (string | undefined)[] = [];
  const server = await standIn((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && req.url === '/api/events/e/seats') return res.end(JSON.stringify([seat]));
      if (req.method === 'GET' && req.url === '/api/events/e/seats/availability')
        return res.end(JSON.stringify({ version: 1, statuses: seat.status[0] }));
      if (req.method === 'GET' && req.url === '/api/events/e/queue/me') {
        looks.push(req.headers['x-queue-ticket'] as string | undefined);
        seat.status = 'AVAILABLE';
        return res.end(JSON.stringify({ state: 'admitted' }));
      }
      if (req.method === 'POST' && req.url === '/api/reservations') {
        const { seatIds } = JSON.parse(body) as { seatIds: string[] };
        bookings.push(seatIds);
        seat.status = 'SOLD';
        res.statusCode = 202;
        return res.end(JSON.stringify({ id: 'r1', status: 'CONFIRMED', seats: seatIds }));
      }
      res.statusCode = 404;
      res.end('{}');
    });
  });
  return { url: server.url, seat, bookings, looks, close: server.close };
}

/** What an admitted fan's booking needs around it, against the venue; `ended` hears each fan end. */
function admittedFans(venue: { url: string }) {
  const scenario = loadScenario('flash-sale');
  const recorder = new Recorder(1);
  const http = httpClient(recorder, 4);
  const ended: { index: number; error?: Error }[] = [];
  const ctx: RunContext = {
    scenario: {
      ...scenario,
      abandonment: { beforeAdmission: 0, patienceSeconds: 20, afterAdmission: 0, cancelAfterPaying: 0 },
    },
    targets: { ...defaultTargets({}), ticket: venue.url },
    http,
    recorder,
    eventId: 'e',
    salesOpenAt: Date.now(),
    queueOpensAt: Date.now(),
    // Revalidated on every look: the test decides when the map changes.
    seatMap: new SeatMapView(http, venue.url, 'e', 0),
    deadline: Date.now() + 30_000,
    tokens: new TokenPool(),
    waitingFans: waitingFans<Fan>({
      http,
      recorder,
      url: `${venue.url}/q`,
      statusUrl: `${venue.url}/s`,
      deadline: 0,
      waited: () => {},
    }),
    fanEnded: (index, span, error) => {
      span.end();
      ended.push({ index, ...(error === undefined ? {} : { error }) });
    },
  };
  const fan = (index: number): Fan => ({
    index,
    auth: `fan-${index}`,
    random: seededRandom(index),
    span: tracer.startSpan(`fan ${index}`),
    misbehaves: new Set(),
    userId: '',
    want: 1,
  });
  const until = (count: number) =>
    waitFor(async () => ended.length === count, { intervalMs: 5, what: `${count} fan(s) ended` });
  return { ctx, recorder, http, ended, fan, until };
}

describe('a fan admitted from the queue', () => {
  it('looks at the map even after the sale sold out, and books a seat that a cancellation put back', async () => {
    const venue = await oneSeatVenue();
    const { ctx, recorder, http, ended, fan, until } = admittedFans(venue);
    try {
      // Sold out: the first fan in sees nothing to buy and leaves.
      afterQueue(ctx, fan(1), { token: 'admission-1', ticket: 'ticket-1' });
      await until(1);
      assert.equal(recorder.soldOutSeen, 1);
      // A paid booking is cancelled: its seat is on sale again, and the next fan in line must find it.
      venue.seat.status = 'AVAILABLE';
      afterQueue(ctx, fan(2), { token: 'admission-2', ticket: 'ticket-2' });
      await until(2);
      assert.deepEqual(venue.bookings, [['s1']]);
      assert.equal(recorder.confirmed, 1);
      assert.equal(recorder.soldOutSeen, 1);
      assert.deepEqual(
        ended.map((e) => [e.index, e.error?.message]),
        [
          [1, undefined],
          [2, undefined],
        ],
      );
    } finally {
      await http.close();
      venue.close();
    }
  });

  it('seeing only held seats, says it is still there with its queue ticket, as its page does, and books when one is back', async () => {
    const venue = await oneSeatVenue();
    venue.seat.status = 'HELD';
    const { ctx, recorder, http, ended, fan, until } = admittedFans(venue);
    try {
      afterQueue(ctx, fan(3), { token: 'admission-3', ticket: 'ticket-3' });
      await until(1);
      assert.deepEqual(venue.looks, ['ticket-3']);
      assert.deepEqual(venue.bookings, [['s1']]);
      assert.equal(recorder.confirmed, 1);
      assert.equal(ended[0]?.error, undefined);
    } finally {
      await http.close();
      venue.close();
    }
  });
});
