import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TOPICS } from '@reservex/contracts';
import { anEvent, startTicketStack, type TicketStack } from './ticket-fixture.ts';

/** Checks the seat tables against the reservations, straight from the ticket database. */
async function assertNoSeatInTwoLiveReservations(stack: TicketStack, eventId: string) {
  const doubled = await stack.ticketDb.query(
    `SELECT rs.seat_id, count(*)::int AS n FROM reservation_seats rs JOIN reservations r ON r.id = rs.reservation_id
     WHERE r.event_id = $1 AND r.status IN ('PENDING', 'CONFIRMED') GROUP BY rs.seat_id HAVING count(*) > 1`,
    [eventId],
  );
  assert.deepEqual(doubled.rows, [], 'a seat is in two live reservations');
  const mismatched = await stack.ticketDb.query(
    `SELECT s.id, s.status, r.status AS reservation_status FROM seats s LEFT JOIN reservations r ON r.id = s.reservation_id
     WHERE s.event_id = $1 AND NOT (
       (s.status = 'AVAILABLE' AND s.reservation_id IS NULL) OR
       (s.status = 'HELD' AND r.status = 'PENDING') OR
       (s.status = 'SOLD' AND r.status = 'CONFIRMED'))`,
    [eventId],
  );
  assert.deepEqual(mismatched.rows, [], 'a seat status disagrees with its reservation');
}

describe('concurrent reservations', () => {
  let stack: TicketStack;
  before(async () => {
    stack = await startTicketStack({ ticket: { DATABASE_POOL_MAX: '30' } });
  });
  after(async () => stack?.stop());

  it('200 users reserving the same seat at once: exactly one wins, 199 get 409', async function () {
    this.timeout(120_000);
    const event = await stack.createEvent(anEvent({ seats: 5 }));
    const fans = await Promise.all(Array.from({ length: 200 }, () => stack.newUser()));
    const seat = event.seatIds[2]!;
    const results = await Promise.all(fans.map((f) => stack.reserve(f.token, event.id, [seat])));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 202).length, 1, `statuses: ${[...new Set(statuses)]}`);
    assert.equal(statuses.filter((s) => s === 409).length, 199);
    const { rows } = await stack.ticketDb.query(
      'SELECT count(*)::int AS n FROM reservations WHERE event_id = $1',
      [event.id],
    );
    assert.equal(rows[0].n, 1);
    await assertNoSeatInTwoLiveReservations(stack, event.id);
  });

  it('many users on overlapping seat sets: no seat ends up in two live reservations', async function () {
    this.timeout(120_000);
    const event = await stack.createEvent(anEvent({ seats: 20, maxSeatsPerUser: 4 }));
    const fans = await Promise.all(Array.from({ length: 60 }, () => stack.newUser()));
    // Each wants 2 to 4 adjacent seats from a window that overlaps its neighbours'.
    const requests = fans.map((f, i) => {
      const start = (i * 3) % 17;
      const count = 2 + (i % 3);
      return stack.reserve(f.token, event.id, event.seatIds.slice(start, start + count));
    });
    const results = await Promise.all(requests);
    const won = results.filter((r) => r.status === 202);
    assert.ok(
      won.length > 0,
      `someone got seats: ${JSON.stringify(results.map((r) => [r.status, r.body?.type]).slice(0, 5))}`,
    );
    assert.ok(
      results.every((r) => r.status === 202 || r.status === 409),
      `unexpected: ${results.map((r) => r.status)}`,
    );
    const heldSeats = won.flatMap((r) => r.body.seats.map((s: { id: string }) => s.id));
    assert.equal(new Set(heldSeats).size, heldSeats.length, 'two winners share a seat');
    await assertNoSeatInTwoLiveReservations(stack, event.id);
    // payment-service captures every one, and the invariant still holds once they are all sold.
    for (const r of won)
      await stack.publish(TOPICS.paymentCompleted, r.body.id, {
        reservationId: r.body.id,
        paymentId: randomUUID(),
        amount: r.body.amount,
        capturedAt: new Date().toISOString(),
      });
    await Promise.all(won.map((r) => stack.waitForReservation(r.body.id, 'CONFIRMED', 30_000)));
    await assertNoSeatInTwoLiveReservations(stack, event.id);
    const counts = await stack.seatStatuses(event.id);
    assert.equal((counts.SOLD ?? 0) + (counts.AVAILABLE ?? 0) + (counts.HELD ?? 0), 20);
    assert.equal(counts.SOLD, heldSeats.length);
  });
});
