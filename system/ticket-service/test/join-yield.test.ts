import assert from 'node:assert/strict';
import { waitFor } from '@reservex/kit/testing';
import { admissionFor, anEvent, startTicketStack, type TicketStack } from './ticket-fixture.ts';

/** Keeps this process's event loop busy (ticket-service runs in it) in slices, so its timers still run between. */
async function busyLoop(ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const slice = Date.now() + 20;
    while (Date.now() < slice) Math.sqrt(Date.now());
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('joins give way when ticket-service is saturated', () => {
  let stack: TicketStack;
  before(async () => {
    stack = await startTicketStack({
      ticket: { JOIN_YIELD_UTILISATION: '0.5', JOIN_YIELD_RETRY_AFTER_SECONDS: '2' },
    });
  });
  after(async () => stack?.stop());

  const queuedEvent = () =>
    stack.createEvent({
      ...anEvent({ seats: 4 }),
      queue: { opensAt: new Date(Date.now() - 60_000).toISOString(), admitPerSecond: 1, maxActive: 1 },
    } as never);
  /** Someone inside, about to book: what joins give way to. */
  const admitOne = async (eventId: string) => admissionFor(stack, (await stack.newUser()).token, eventId);

  it('a busy loop turns joins away with 503 and Retry-After while a fan is inside, serves the rest, and joins again once it is idle', async () => {
    const event = await queuedEvent();
    await admitOne(event.id);
    const fans = await Promise.all(Array.from({ length: 30 }, () => stack.newUser()));
    await busyLoop(800);
    const [joins, seats] = await Promise.all([
      Promise.all(
        fans.map((fan) => stack.ticket.post(`/api/events/${event.id}/queue`, { token: fan.token })),
      ),
      stack.ticket.get(`/api/events/${event.id}/seats`),
    ]);
    assert.equal(seats.status, 200, 'a request that does not yield is served');
    const refused = joins.filter((j) => j.status === 503);
    assert.ok(refused.length > 0, `no join of 30 was turned away: ${joins.map((j) => j.status).join(',')}`);
    for (const j of refused) {
      assert.equal(j.body.type, 'https://reservex.dev/problems/overloaded');
      assert.ok(Number(j.headers.get('retry-after')) >= 1);
    }
    assert.ok(joins.every((j) => j.status === 503 || j.status === 201));
    // Idle again: the share decays and every fan turned away gets in.
    const turnedAway = fans.filter((_, i) => joins[i]!.status === 503);
    for (const fan of turnedAway)
      await waitFor(
        async () =>
          (await stack.ticket.post(`/api/events/${event.id}/queue`, { token: fan.token })).status === 201,
        { what: 'a join served once the loop is idle', timeoutMs: 15_000 },
      );
  });

  it('turns no join away while nobody is inside, however busy: there is no one to give way to', async () => {
    // The other test's fan may still hold their slot in this process's ticker: a stack of its own.
    const own = await startTicketStack({
      ticket: { JOIN_YIELD_UTILISATION: '0.5', JOIN_YIELD_RETRY_AFTER_SECONDS: '2' },
    });
    try {
      const event = await own.createEvent({
        ...anEvent({ seats: 4 }),
        queue: { opensAt: new Date(Date.now() - 60_000).toISOString(), admitPerSecond: 1, maxActive: 1 },
      } as never);
      const fans = await Promise.all(Array.from({ length: 30 }, () => own.newUser()));
      await busyLoop(800);
      const joins = await Promise.all(
        fans.map((fan) => own.ticket.post(`/api/events/${event.id}/queue`, { token: fan.token })),
      );
      assert.deepEqual(
        joins.map((j) => j.status),
        fans.map(() => 201),
      );
    } finally {
      await own.stop();
    }
  });
});
