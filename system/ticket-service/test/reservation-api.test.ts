import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TOPICS } from '@reservex/contracts';
import { seatMap } from '../src/store/seats.ts';
import { anEvent, startTicketStack, type TicketStack } from './ticket-fixture.ts';

describe('ticket-service API', () => {
  let stack: TicketStack;
  let fan: { token: string; userId: string };
  before(async () => {
    stack = await startTicketStack();
    fan = await stack.newUser();
  });
  after(async () => stack?.stop());

  describe('events', () => {
    it('an admin creates an event and its seats are generated from the layout', async () => {
      const layout = anEvent({
        sections: [
          { name: 'VIP', rows: 2, seatsPerRow: 3, price: 150_000 },
          { name: 'R', rows: 28, seatsPerRow: 1, price: 99_000 },
        ],
      });
      const event = await stack.createEvent(layout);
      assert.equal(event.body.capacity, 34);
      assert.equal(event.body.available, 34);
      const seats = await stack.ticket.get(`/api/events/${event.id}/seats`);
      assert.equal(seats.body.length, 34);
      const rows = new Set(
        seats.body.filter((s: { section: string }) => s.section === 'R').map((s: { row: string }) => s.row),
      );
      assert.ok(
        rows.has('A') && rows.has('Z') && rows.has('AA') && rows.has('AB'),
        'row labels continue past Z',
      );
      assert.deepEqual(Object.keys(seats.body[0]).sort(), [
        'id',
        'number',
        'price',
        'row',
        'section',
        'status',
      ]);
      const listed = await stack.ticket.get('/api/events');
      assert.ok(listed.body.some((e: { id: string }) => e.id === event.id));
    });

    it('lists the events still to start first, soonest first, and those that have started after them', async () => {
      const at = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
      const layout = (startsInDays: number) => ({
        ...anEvent(),
        startsAt: at(startsInDays),
        salesOpenAt: at(startsInDays - 1),
      });
      const started = await stack.ticket.post('/api/events', { token: stack.adminToken, body: layout(-3) });
      const later = await stack.ticket.post('/api/events', { token: stack.adminToken, body: layout(60) });
      const sooner = await stack.ticket.post('/api/events', { token: stack.adminToken, body: layout(2) });
      const ids = (await stack.ticket.get('/api/events?limit=200')).body.map((e: { id: string }) => e.id);
      const place = (res: { body: { id: string } }) => ids.indexOf(res.body.id);
      assert.ok(place(sooner) >= 0 && place(later) >= 0 && place(started) >= 0);
      assert.ok(place(sooner) < place(later), 'soonest first');
      assert.ok(
        place(later) < place(started),
        'an event that has started comes after every one still to start',
      );
    });

    it('a user who is not an admin cannot create one (403), and nobody signed out can (401)', async () => {
      assert.equal(
        (await stack.ticket.post('/api/events', { token: fan.token, body: anEvent() })).status,
        403,
      );
      assert.equal((await stack.ticket.post('/api/events', { body: anEvent() })).status, 401);
    });

    it('an invalid layout is refused with 400 and a pointer to each problem', async () => {
      const res = await stack.ticket.post('/api/events', {
        token: stack.adminToken,
        body: {
          ...anEvent(),
          salesOpenAt: '2099-01-01T00:00:00Z',
          sections: [{ name: 'R', rows: 0, seatsPerRow: 1, price: -1 }],
        },
      });
      assert.equal(res.status, 400);
      const pointers = res.body.errors.map((e: { pointer: string }) => e.pointer).sort();
      assert.deepEqual(pointers, ['/salesOpenAt', '/sections/0/price', '/sections/0/rows']);
    });

    it('an unknown event is 404, and a malformed id is 400', async () => {
      assert.equal((await stack.ticket.get(`/api/events/${randomUUID()}`)).status, 404);
      assert.equal((await stack.ticket.get('/api/events/not-a-uuid/seats')).status, 400);
    });

    it('the seat map carries a version: unchanged, it answers 304; after a hold, the new version', async () => {
      const event = await stack.createEvent(anEvent({ seats: 3 }));
      const first = await stack.ticket.get(`/api/events/${event.id}/seats`);
      const etag = first.headers.get('etag')!;
      const same = await stack.ticket.get(`/api/events/${event.id}/seats`, {
        headers: { 'if-none-match': etag },
      });
      assert.equal(same.status, 304);
      await stack.reserve(fan.token, event.id, [event.seatIds[0]!]);
      const after = await stack.ticket.get(`/api/events/${event.id}/seats`, {
        headers: { 'if-none-match': etag },
      });
      assert.equal(after.status, 200);
      assert.ok(
        Number(after.headers.get('x-seat-map-version')) > Number(first.headers.get('x-seat-map-version')),
      );
      assert.notEqual(after.body.find((s: { id: string }) => s.id === event.seatIds[0]).status, 'AVAILABLE');
    });

    it('a seat map brought up to date seat by seat is the map read whole, through holds, a sale and a release', async () => {
      const event = await stack.createEvent(
        anEvent({
          sections: [
            { name: 'Floor', rows: 3, seatsPerRow: 4, price: 250_000 },
            { name: 'Upper', rows: 12, seatsPerRow: 2, price: 99_000 },
          ],
        }),
      );
      const mapNow = async () => (await stack.ticket.get(`/api/events/${event.id}/seats`)).body;
      const wholeNow = async () => (await seatMap(stack.ticketDb, event.id)).seats;
      assert.deepEqual(await mapNow(), await wholeNow());
      const [first, second, third] = [event.seatIds[1]!, event.seatIds[17]!, event.seatIds[30]!];
      await stack.reserve(fan.token, event.id, [first, second, third]);
      const held = await mapNow();
      assert.equal(held.filter((s: { status: string }) => s.status === 'HELD').length, 3);
      assert.deepEqual(held, await wholeNow());
      // The saga's own ends, written as it writes them: one seat sold, one given back.
      await stack.ticketDb.query(
        `UPDATE seats SET status = 'SOLD', changed_seq = nextval('seat_change_seq') WHERE id = $1`,
        [first],
      );
      await stack.ticketDb.query(
        `UPDATE seats SET status = 'AVAILABLE', reservation_id = NULL, changed_seq = nextval('seat_change_seq')
         WHERE id = $1`,
        [third],
      );
      const settled = await mapNow();
      assert.deepEqual(
        settled
          .filter((s: { status: string }) => s.status !== 'AVAILABLE')
          .map((s: { id: string; status: string }) => [s.id, s.status]),
        [
          [first, 'SOLD'],
          [second, 'HELD'],
        ],
      );
      assert.deepEqual(settled, await wholeNow());
      // The statuses alone: the same snapshot, a letter a seat in the map's order, and 304 while unchanged.
      const availability = await stack.ticket.get(`/api/events/${event.id}/seats/availability`);
      assert.equal(availability.status, 200);
      assert.equal(availability.body.statuses, settled.map((s: { status: string }) => s.status[0]).join(''));
      assert.equal(availability.body.version, Number(availability.headers.get('x-seat-map-version')));
      const unchanged = await stack.ticket.get(`/api/events/${event.id}/seats/availability`, {
        headers: { 'if-none-match': availability.headers.get('etag')! },
      });
      assert.equal(unchanged.status, 304);
    });
  });

  describe('reservations', () => {
    it('a second hold on a held or sold seat is refused with 409 and names the seat', async () => {
      const other = await stack.newUser();
      const event = await stack.createEvent(anEvent({ seats: 3 }));
      assert.equal((await stack.reserve(fan.token, event.id, [event.seatIds[0]!])).status, 202);
      const res = await stack.reserve(other.token, event.id, [event.seatIds[0]!, event.seatIds[1]!]);
      assert.equal(res.status, 409);
      assert.equal(res.body.type, 'https://reservex.dev/problems/seat-unavailable');
      assert.deepEqual(res.body.unavailableSeatIds, [event.seatIds[0]]);
      // All or nothing: the free seat in the refused request was not kept either.
      assert.deepEqual(await stack.seatStatuses(event.id), { AVAILABLE: 2, HELD: 1 });
    });

    it('the same Idempotency-Key returns the same reservation with no second hold; a different body is 422', async () => {
      const event = await stack.createEvent(anEvent({ seats: 4 }));
      const key = randomUUID();
      const first = await stack.reserve(fan.token, event.id, [event.seatIds[0]!], { 'idempotency-key': key });
      const retries = await Promise.all(
        Array.from({ length: 5 }, () =>
          stack.reserve(fan.token, event.id, [event.seatIds[0]!], { 'idempotency-key': key }),
        ),
      );
      for (const r of retries) {
        assert.equal(r.status, 202);
        assert.equal(r.body.id, first.body.id);
        assert.equal(r.headers.get('idempotent-replayed'), 'true');
      }
      const { rows } = await stack.ticketDb.query(
        'SELECT count(*)::int AS n FROM reservations WHERE event_id = $1',
        [event.id],
      );
      assert.equal(rows[0].n, 1);
      const different = await stack.reserve(fan.token, event.id, [event.seatIds[1]!], {
        'idempotency-key': key,
      });
      assert.equal(different.status, 422);
    });

    it('concurrent first uses of one Idempotency-Key make exactly one reservation', async () => {
      const event = await stack.createEvent(anEvent({ seats: 2 }));
      const key = randomUUID();
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          stack.reserve(fan.token, event.id, [event.seatIds[0]!], { 'idempotency-key': key }),
        ),
      );
      assert.deepEqual(new Set(results.map((r) => r.status)), new Set([202]));
      assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
    });

    it('one Idempotency-Key sent at once for two events makes one reservation; the other is 422, never 500', async () => {
      const events = [
        await stack.createEvent(anEvent({ seats: 10 })),
        await stack.createEvent(anEvent({ seats: 10 })),
      ];
      // Each round is a fresh race: the two requests take different locks (one per fan and event) and meet only
      // at the key.
      for (let round = 0; round < 10; round++) {
        const buyer = await stack.newUser();
        const key = randomUUID();
        const results = await Promise.all(
          events.map((event) =>
            stack.reserve(buyer.token, event.id, [event.seatIds[round]!], { 'idempotency-key': key }),
          ),
        );
        const statuses = results.map((r) => r.status).sort();
        assert.deepEqual(
          statuses,
          [202, 422],
          `round ${round}: ${JSON.stringify(results.map((r) => r.body))}`,
        );
        const refused = results.find((r) => r.status === 422)!;
        assert.match(refused.headers.get('content-type') ?? '', /application\/problem\+json/);
        assert.equal(refused.body.type, 'https://reservex.dev/problems/idempotency-key-reused');
        const { rows } = await stack.ticketDb.query(
          'SELECT count(*)::int AS n FROM reservations WHERE user_id = $1',
          [buyer.userId],
        );
        assert.equal(rows[0].n, 1);
      }
    });

    it('a user cannot hold more seats than the event allows, even across reservations', async () => {
      const buyer = await stack.newUser();
      const event = await stack.createEvent(anEvent({ seats: 6, maxSeatsPerUser: 3 }));
      assert.equal((await stack.reserve(buyer.token, event.id, event.seatIds.slice(0, 2))).status, 202);
      const over = await stack.reserve(buyer.token, event.id, event.seatIds.slice(2, 4));
      assert.equal(over.status, 409);
      assert.equal(over.body.type, 'https://reservex.dev/problems/seat-limit');
    });

    it('before sales open, reserving is refused with 409 sales-not-open', async () => {
      const event = await stack.createEvent(
        anEvent({ seats: 1, salesOpenAt: new Date(Date.now() + 3_600_000) }),
      );
      const res = await stack.reserve(fan.token, event.id, event.seatIds);
      assert.equal(res.status, 409);
      assert.equal(res.body.type, 'https://reservex.dev/problems/sales-not-open');
    });

    it('bad input is 400 and keeps nothing: no seats, too many, duplicate-free ids, malformed JSON', async () => {
      const event = await stack.createEvent(anEvent({ seats: 2 }));
      for (const body of [
        { eventId: event.id, seatIds: [] },
        { eventId: 'x', seatIds: ['y'] },
        { eventId: event.id },
      ]) {
        const res = await stack.ticket.post('/api/reservations', { token: fan.token, body });
        assert.equal(res.status, 400, JSON.stringify(body));
      }
      const malformed = await stack.ticket.post('/api/reservations', {
        token: fan.token,
        raw: '{"eventId":',
      });
      assert.equal(malformed.status, 400);
      assert.deepEqual(await stack.seatStatuses(event.id), { AVAILABLE: 2 });
    });

    it('once the event has started, a CONFIRMED booking cannot be cancelled (409 event-started); a PENDING one still can', async () => {
      const buyer = await stack.newUser();
      const event = await stack.createEvent(anEvent({ seats: 3 }));
      const confirmed = await stack.reserve(buyer.token, event.id, [event.seatIds[0]!]);
      const pending = await stack.reserve(buyer.token, event.id, [event.seatIds[1]!]);
      await stack.publish(TOPICS.paymentCompleted, confirmed.body.id, {
        reservationId: confirmed.body.id,
        paymentId: randomUUID(),
        amount: confirmed.body.amount,
        capturedAt: new Date().toISOString(),
      });
      await stack.waitForReservation(confirmed.body.id, 'CONFIRMED');
      // The show began a minute ago.
      await stack.ticketDb.query(
        "UPDATE events SET sales_open_at = now() - interval '1 hour', starts_at = now() - interval '1 minute' WHERE id = $1",
        [event.id],
      );
      const refused = await stack.ticket.delete(`/api/reservations/${confirmed.body.id}`, {
        token: buyer.token,
      });
      assert.equal(refused.status, 409);
      assert.match(refused.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(refused.body.type, 'https://reservex.dev/problems/event-started');
      assert.match(refused.body.detail, /started/);
      const kept = await stack.ticketDb.query('SELECT status, refunded_at FROM reservations WHERE id = $1', [
        confirmed.body.id,
      ]);
      assert.deepEqual(kept.rows[0], { status: 'CONFIRMED', refunded_at: null });
      const cancellations = await stack.ticketDb.query(
        'SELECT count(*)::int AS n FROM outbox WHERE key = $1 AND topic = $2',
        [confirmed.body.id, TOPICS.reservationCancelled],
      );
      assert.equal(cancellations.rows[0].n, 0, 'no refund was asked for');
      // Nothing was paid for the PENDING one yet: letting it go costs nobody anything.
      const released = await stack.ticket.delete(`/api/reservations/${pending.body.id}`, {
        token: buyer.token,
      });
      assert.equal(released.status, 200);
      assert.equal(released.body.status, 'CANCELLED');
      assert.deepEqual(await stack.seatStatuses(event.id), { AVAILABLE: 2, SOLD: 1 });
    });

    it('is visible to its owner and admins only; someone else gets 404', async () => {
      const event = await stack.createEvent(anEvent({ seats: 1 }));
      const mine = await stack.reserve(fan.token, event.id, event.seatIds);
      const stranger = await stack.newUser();
      assert.equal(
        (await stack.ticket.get(`/api/reservations/${mine.body.id}`, { token: stranger.token })).status,
        404,
      );
      assert.equal(
        (await stack.ticket.delete(`/api/reservations/${mine.body.id}`, { token: stranger.token })).status,
        404,
      );
      assert.equal(
        (await stack.ticket.get(`/api/reservations/${mine.body.id}`, { token: stack.adminToken })).status,
        200,
      );
      const list = await stack.ticket.get('/api/reservations', { token: fan.token });
      assert.ok(list.body.some((r: { id: string }) => r.id === mine.body.id));
      const theirs = await stack.ticket.get('/api/reservations', { token: stranger.token });
      assert.deepEqual(theirs.body, []);
    });

    it('needs a valid token', async () => {
      assert.equal((await stack.ticket.post('/api/reservations', { body: {} })).status, 401);
      assert.equal((await stack.ticket.post('/api/reservations', { token: 'a.b.c', body: {} })).status, 401);
    });
  });
});
