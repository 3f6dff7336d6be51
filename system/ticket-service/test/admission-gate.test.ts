import assert from 'node:assert/strict';

import { waitFor } from '@reservex/kit/testing';
import { SignJWT } from 'jose';
import { admissionFor, anEvent, startTicketStack, type TicketStack } from './ticket-fixture.ts';

describe('reserving through the waiting room', () => {
  let stack: TicketStack;
  before(async () => {
    stack = await startTicketStack({ ticket: { QUEUE_TICK_MS: '50', QUEUE_JOIN_LIMIT_PER_USER: '5' } });
  });
  after(async () => stack?.stop());

  async function queuedEvent(seats = 4) {
    const now = Date.now();
    return stack.createEvent({
      ...anEvent({ seats }),
      queue: { opensAt: new Date(now - 60_000).toISOString(), admitPerSecond: 50, maxActive: 10 },
    } as never);
  }

  it('an admitted fan reserves with the admission token; the token then is spent and refused a second time', async () => {
    const fan = await stack.newUser();
    const event = await queuedEvent();
    const admission = await admissionFor(stack, fan.token, event.id);
    const ok = await stack.reserve(fan.token, event.id, [event.seatIds[0]!], {
      'x-admission-token': admission,
    });
    assert.equal(ok.status, 202);
    const replay = await stack.reserve(fan.token, event.id, [event.seatIds[1]!], {
      'x-admission-token': admission,
    });
    assert.equal(replay.status, 403);
    assert.equal(replay.body.type, 'https://reservex.dev/problems/admission-spent');
    const { rows } = await stack.ticketDb.query('SELECT admission_id FROM reservations WHERE id = $1', [
      ok.body.id,
    ]);
    assert.ok(rows[0].admission_id, 'the reservation records its admission');
  });

  it("counts the waiting room's Redis commands on /metrics by what each request was for: a join, the shared status, a fan's own place, an admitted fan's later looks, a booking's admission", async () => {
    const purposes = ['join', 'status', 'place', 'inside', 'admission'] as const;
    const counted = async () => {
      const text = (await stack.ticket.get('/metrics')).body as string;
      return purposes.map((p) =>
        Number(
          new RegExp(`^waiting_room_redis_commands_total\\{[^}]*purpose="${p}"[^}]*\\} (\\d+)`, 'm').exec(
            text,
          )?.[1],
        ),
      );
    };
    // The ticker, the presence batches and the controller go on meanwhile, under purposes of their own.
    const during = async (work: () => Promise<unknown>) => {
      const before = await counted();
      await work();
      const after = await counted();
      return Object.fromEntries(purposes.map((p, i) => [p, after[i]! - before[i]!]));
    };
    const fan = await stack.newUser();
    const event = await queuedEvent();
    let ticket = '';
    const joined = await during(async () => {
      ticket = (await stack.ticket.post(`/api/events/${event.id}/queue`, { token: fan.token })).body
        .queueTicket;
    });
    assert.ok(joined.join! >= 3, `a join is at least three commands, counted ${joined.join}`);
    assert.deepEqual({ ...joined, join: 0 }, { join: 0, status: 0, place: 0, inside: 0, admission: 0 });
    const read = await during(() => stack.ticket.get(`/api/events/${event.id}/queue/status`));
    assert.deepEqual({ ...read, status: 0 }, { join: 0, status: 0, place: 0, inside: 0, admission: 0 });
    let admission = '';
    const asked = await during(async () => {
      admission = await waitFor(async () => {
        const me = await stack.ticket.get(`/api/events/${event.id}/queue/me`, {
          token: fan.token,
          headers: { 'x-queue-ticket': ticket },
        });
        return me.body.admissionToken as string | undefined;
      });
    });
    // Admitted: the admission (two) and its acknowledgement; the join time is in the ticket, and when the admission
    // was given in its id.
    assert.ok(asked.place! >= 3, `an admitted fan's place, counted ${asked.place}`);
    assert.deepEqual({ ...asked, place: 0 }, { join: 0, status: 0, place: 0, inside: 0, admission: 0 });
    // Looking again while admitted reads the admission (two) and nothing else: when it was given never changes. It
    // keeps the slot of a fan inside, and counts as such, not as a place in the line. The fewest of three looks:
    // the estimate's rate, cached for a second, may be read again (as a place's) during one.
    const again: { place: number; inside: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const look = await during(() =>
        stack.ticket.get(`/api/events/${event.id}/queue/me`, {
          token: fan.token,
          headers: { 'x-queue-ticket': ticket },
        }),
      );
      assert.deepEqual(
        { ...look, place: 0, inside: 0 },
        { join: 0, status: 0, place: 0, inside: 0, admission: 0 },
      );
      again.push({ place: look.place!, inside: look.inside! });
    }
    const seen = JSON.stringify(again);
    assert.ok(
      again.every((look) => look.inside === 2),
      `an admitted fan's later looks, counted ${seen}`,
    );
    assert.equal(Math.min(...again.map((look) => look.place)), 0, `places read by later looks: ${seen}`);
    const booked = await during(() =>
      stack.reserve(fan.token, event.id, [event.seatIds[0]!], { 'x-admission-token': admission }),
    );
    // The token checked (two), then spent: the script's call and its four commands (and an EVAL after NOSCRIPT).
    assert.ok(booked.admission === 7 || booked.admission === 8, `a booking's admission, ${booked.admission}`);
    assert.deepEqual({ ...booked, admission: 0 }, { join: 0, status: 0, place: 0, inside: 0, admission: 0 });
  });

  it('refuses with 403: no token, a forged one, one for another event, one for another fan', async () => {
    const fan = await stack.newUser();
    const other = await stack.newUser();
    const event = await queuedEvent();
    const elsewhere = await queuedEvent();
    const admission = await admissionFor(stack, fan.token, event.id);
    const otherEventToken = await admissionFor(stack, fan.token, elsewhere.id);
    const forged = await new SignJWT({ evt: event.id })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('reservex-waiting-room')
      .setSubject(fan.userId)
      .setJti('x.1')
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode('not-the-secret-not-the-secret-not-the-secret'));
    const cases: Array<[string, string, Record<string, string>]> = [
      ['missing', fan.token, {}],
      ['invalid', fan.token, { 'x-admission-token': forged }],
      ['wrong-event', fan.token, { 'x-admission-token': otherEventToken }],
      ['wrong-user', other.token, { 'x-admission-token': admission }],
    ];
    for (const [slug, token, headers] of cases) {
      const res = await stack.ticket.post('/api/reservations', {
        token,
        body: { eventId: event.id, seatIds: [event.seatIds[0]] },
        headers,
      });
      assert.equal(res.status, 403, slug);
      assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(res.body.type, `https://reservex.dev/problems/admission-${slug}`, slug);
    }
    assert.deepEqual(
      await stack.seatStatuses(event.id),
      { AVAILABLE: 4 },
      'nothing was held by a refused request',
    );
  });

  it('an event without a waiting room needs no token', async () => {
    const fan = await stack.newUser();
    const event = await stack.createEvent(anEvent({ seats: 1 }));
    assert.equal((await stack.reserve(fan.token, event.id, event.seatIds)).status, 202);
    assert.equal(
      (await stack.ticket.post(`/api/events/${event.id}/queue`, { token: fan.token })).status,
      404,
    );
  });

  it('joining before the waiting room opens is 409; joining too often is 429 with Retry-After', async () => {
    const fan = await stack.newUser();
    const now = Date.now();
    const later = await stack.createEvent({
      ...anEvent({ seats: 1, salesOpenAt: new Date(now + 7_200_000) }),
      queue: { opensAt: new Date(now + 3_600_000).toISOString(), admitPerSecond: 1, maxActive: 1 },
    } as never);
    const early = await stack.ticket.post(`/api/events/${later.id}/queue`, { token: fan.token });
    assert.equal(early.status, 409);
    assert.equal(early.body.type, 'https://reservex.dev/problems/queue-not-open');
    const event = await queuedEvent(1);
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof stack.ticket.post>> | undefined;
    for (let i = 0; i < 7; i++) {
      last = await stack.ticket.post(`/api/events/${event.id}/queue`, { token: fan.token });
      statuses.push(last.status);
    }
    assert.ok(statuses.includes(429), `statuses ${statuses}`);
    assert.ok(Number(last?.headers.get('retry-after')) >= 1);
  });

  it('an admin can pause, change the rate of, and drain a queue; others cannot', async () => {
    const fan = await stack.newUser();
    const event = await queuedEvent(1);
    assert.equal(
      (
        await stack.ticket.patch(`/api/events/${event.id}/queue`, {
          token: fan.token,
          body: { paused: true },
        })
      ).status,
      403,
    );
    const bad = await stack.ticket.patch(`/api/events/${event.id}/queue`, {
      token: stack.adminToken,
      body: { admitPerSecond: 0 },
    });
    assert.equal(bad.status, 400);
    const paused = await stack.ticket.patch(`/api/events/${event.id}/queue`, {
      token: stack.adminToken,
      body: { paused: true, admitPerSecond: 7 },
    });
    assert.equal(paused.status, 200);
    assert.equal(paused.body.paused, true);
    assert.equal(paused.body.admitPerSecond, 7);
    await stack.ticket.patch(`/api/events/${event.id}/queue`, {
      token: stack.adminToken,
      body: { drain: true },
    });
    const closed = await stack.ticket.post(`/api/events/${event.id}/queue`, { token: fan.token });
    assert.equal(closed.status, 409);
    assert.equal(closed.body.type, 'https://reservex.dev/problems/queue-closed');
  });

  it('an admin sees the admission controller at work, and can switch it off (the switch kept in PostgreSQL)', async () => {
    const fan = await stack.newUser();
    const event = await queuedEvent();
    await stack.ticket.post(`/api/events/${event.id}/queue`, { token: fan.token });
    const stepped = await waitFor(
      async () => {
        const r = await stack.ticket.get(`/api/events/${event.id}/queue`);
        return r.body.admissionControlState === null ? undefined : r.body;
      },
      { timeoutMs: 10_000, what: 'the controller’s first step' },
    );
    assert.equal(stepped.admissionControl, 'auto');
    assert.ok(stepped.effectiveAdmitPerSecond <= 50);
    assert.ok(
      ['backlog', 'growth', 'ceiling', 'floor', 'old-holds'].includes(
        stepped.admissionControlState.limitedBy,
      ),
    );
    const off = await stack.ticket.patch(`/api/events/${event.id}/queue`, {
      token: stack.adminToken,
      body: { admissionControl: 'off' },
    });
    assert.equal(off.status, 200);
    assert.equal(off.body.admissionControl, 'off');
    assert.equal(off.body.effectiveAdmitPerSecond, 50);
    const { rows } = await stack.ticketDb.query('SELECT admission_control FROM events WHERE id = $1', [
      event.id,
    ]);
    assert.equal(rows[0].admission_control, 'off');
    const wrong = await stack.ticket.patch(`/api/events/${event.id}/queue`, {
      token: stack.adminToken,
      body: { admissionControl: 'sometimes' },
    });
    assert.equal(wrong.status, 400);
  });

  it('streams position and admission over Server-Sent Events', async () => {
    const fan = await stack.newUser();
    const event = await queuedEvent(1);
    await stack.ticket.post(`/api/events/${event.id}/queue`, { token: fan.token });
    const controller = new AbortController();
    const res = await fetch(`${stack.ticketUrl}/api/events/${event.id}/queue/stream`, {
      headers: { authorization: `Bearer ${fan.token}` },
      signal: controller.signal,
    });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const deadline = Date.now() + 10_000;
    while (!text.includes('event: admitted') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    assert.match(text, /event: admitted\ndata: \{.*"admissionToken":"ey/);
  });
});
