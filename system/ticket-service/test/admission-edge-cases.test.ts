import assert from 'node:assert/strict';
import { testInfra, waitFor } from '@reservex/kit/testing';
import { Redis } from 'ioredis';
import { admissionFor, anEvent, startTicketStack, type TicketStack } from './ticket-fixture.ts';

describe('waiting-room edge cases', () => {
  let stack: TicketStack;
  let redis: Redis;
  before(async function () {
    this.timeout(60_000);
    stack = await startTicketStack({
      ticket: { QUEUE_TICK_MS: '50', REDIS_COMMAND_TIMEOUT_MS: '500', QUEUE_HEARTBEAT_GRACE_SECONDS: '2' },
    });
    redis = new Redis(testInfra().redisUrl);
  });
  after(async () => {
    redis?.disconnect();
    await stack?.stop();
  });

  async function queuedEvent(seats: number, salesOpenAt = new Date(Date.now() - 1000)) {
    return stack.createEvent({
      ...anEvent({ seats, salesOpenAt }),
      queue: { opensAt: new Date(Date.now() - 60_000).toISOString(), admitPerSecond: 50, maxActive: 10 },
    } as never);
  }

  it('a fan who joins the pre-queue twice still gets a place at the opening, and then an admission', async function () {
    this.timeout(30_000);
    const fan = await stack.newUser();
    const event = await queuedEvent(2, new Date(Date.now() + 3000));
    const joins = [];
    for (let i = 0; i < 2; i++) {
      const join = await stack.ticket.post(`/api/events/${event.id}/queue`, { token: fan.token });
      assert.equal(join.body.state, 'waiting');
      joins.push(join);
    }
    // Another tab: the same place, answered 200, not a second one.
    assert.deepEqual(
      joins.map((j) => [j.status, j.body.number]),
      [
        [201, joins[0]!.body.number],
        [200, joins[0]!.body.number],
      ],
    );
    const me = await waitFor(
      async () => {
        const r = await stack.ticket.get(`/api/events/${event.id}/queue/me`, { token: fan.token });
        return r.body.state === 'admitted' ? r.body : undefined;
      },
      { timeoutMs: 20_000, what: 'the twice-joined fan to be admitted after the opening' },
    );
    assert.match(me.admissionToken, /^ey/);
  });

  it('one admission used for several reservations at once makes one booking; the others are refused with 403, never 500', async () => {
    const fan = await stack.newUser();
    const event = await queuedEvent(6);
    const token = await admissionFor(stack, fan.token, event.id);
    const results = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        stack.reserve(fan.token, event.id, [event.seatIds[i]!], { 'x-admission-token': token }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [202, 403, 403, 403], JSON.stringify(results.map((r) => r.body)));
    assert.ok(results.filter((r) => r.status === 403).every((r) => r.body.type.endsWith('/admission-spent')));
    assert.deepEqual(await stack.seatStatuses(event.id), { AVAILABLE: 5, HELD: 1 });
  });

  it('a booking that committed answers 202 even when Redis cannot take the spent admission at that moment', async function () {
    this.timeout(30_000);
    const fan = await stack.newUser();
    const event = await queuedEvent(2);
    const token = await admissionFor(stack, fan.token, event.id);
    // Writes (and scripts) stall for 3 s while reads go on: the admission checks pass, the spend does not.
    await redis.call('CLIENT', 'PAUSE', '3000', 'WRITE');
    let reserved: Awaited<ReturnType<TicketStack['reserve']>>;
    try {
      reserved = await stack.reserve(fan.token, event.id, [event.seatIds[0]!], {
        'x-admission-token': token,
      });
    } finally {
      await redis.call('CLIENT', 'UNPAUSE');
    }
    assert.equal(reserved.status, 202, JSON.stringify(reserved.body));
    const again = await stack.reserve(fan.token, event.id, [event.seatIds[1]!], {
      'x-admission-token': token,
    });
    assert.equal(again.status, 403, 'the admission is spent all the same: it is recorded with the booking');
  });

  it('a fan who joins and stays silent for as long as the join told them is admitted at their turn, not dropped', async function () {
    this.timeout(30_000);
    const event = await queuedEvent(1);
    await stack.ticket.patch(`/api/events/${event.id}/queue`, {
      token: stack.adminToken,
      body: { paused: true },
    });
    const fan = await stack.newUser();
    // After the opening's seal: a fan who joins in the moment before it is in the pre-queue, told to look at once.
    await waitFor(
      async () =>
        (await stack.ticket.get(`/api/events/${event.id}/queue/status`)).body.lottery === null
          ? undefined
          : true,
      { timeoutMs: 5000, what: 'the pre-queue sealed' },
    );
    const join = await stack.ticket.post(`/api/events/${event.id}/queue`, { token: fan.token });
    assert.equal(join.status, 201);
    // Paused, so no rate to go by: come back in 10 s, and the fan is due then.
    assert.equal(join.body.pollAfterSeconds, 10);
    assert.equal(join.headers.get('retry-after'), '10');
    // Silent for twice the heartbeat grace, well inside the 10 s: in an opening's herd a fan's first poll can wait
    // this long behind the joins, and a join that counted as due at once had them dropped at their turn.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    await stack.ticket.patch(`/api/events/${event.id}/queue`, {
      token: stack.adminToken,
      body: { paused: false },
    });
    const state = await waitFor(
      async () => {
        const r = await stack.ticket.get(`/api/events/${event.id}/queue`);
        return r.body.served >= 1 ? r.body : undefined;
      },
      { timeoutMs: 10_000, what: 'the turn of the only fan in the queue' },
    );
    assert.equal(state.droppedTotal, 0, 'the silent fan was dropped as gone');
    const me = await stack.ticket.get(`/api/events/${event.id}/queue/me`, { token: fan.token });
    assert.equal(me.body.state, 'admitted');
  });

  it('a paused queue stays paused when Redis loses its data: the setting lives in PostgreSQL', async function () {
    this.timeout(30_000);
    const event = await queuedEvent(1);
    const paused = await stack.ticket.patch(`/api/events/${event.id}/queue`, {
      token: stack.adminToken,
      body: { paused: true },
    });
    assert.equal(paused.body.paused, true);
    const keys = await redis.keys(`test:${stack.prefix}wr:{${event.id}}:*`);
    assert.ok(keys.length > 0);
    await redis.del(...keys);
    const state = await waitFor(
      async () => {
        const r = await stack.ticket.get(`/api/events/${event.id}/queue`);
        return r.status === 200 && r.body.admitPerSecond > 0 ? r.body : undefined;
      },
      { timeoutMs: 15_000, what: 'the queue to be rebuilt from PostgreSQL' },
    );
    assert.equal(state.paused, true);
  });
});
