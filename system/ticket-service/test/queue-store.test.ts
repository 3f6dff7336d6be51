import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { testInfra, waitFor } from '@reservex/kit/testing';
import { Redis } from 'ioredis';
import { COLD_START_RATE } from '../src/domain/admission-control.ts';
import { type QueueStore, queueStore } from '../src/store/queue-store.ts';

/** Pearson's chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}
// 23 degrees of freedom (24 permutations of 4), p = 0.001: a fair shuffle fails this one run in a thousand.
const CHI2_23_P001 = 49.73;

describe('the waiting room queue in Redis', () => {
  let redis: Redis;
  let store: QueueStore;
  const prefix = `test:wr:${randomUUID().slice(0, 8)}:`;

  before(async () => {
    redis = new Redis(testInfra().redisUrl);
    store = queueStore(redis, prefix);
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  // The script's own mechanics, at the operator's rate: the controller is switched off unless a test says so.
  async function openQueue(
    settings: { admitPerSecond?: number; maxActive?: number; admissionControl?: 'auto' | 'off' } = {},
  ) {
    const eventId = randomUUID();
    await store.configure(eventId, {
      opensAt: new Date(Date.now() - 60_000),
      salesOpenAt: new Date(Date.now() - 1000),
      admitPerSecond: settings.admitPerSecond ?? 1000,
      maxActive: settings.maxActive ?? 1_000_000,
      admissionControl: settings.admissionControl ?? 'off',
    });
    return eventId;
  }

  it('counts joins against the limits in the same script: per fan and per address, per event, with the wait', async () => {
    const eventId = await openQueue();
    const limits = { ip: '10.0.0.1', perUser: 3, perIp: 5, windowMs: 60_000 };
    const fan = await Promise.all([1, 2, 3, 4].map(() => store.join(eventId, 'eager', limits)));
    assert.equal(fan.filter((r) => r.kind === 'queued').length, 1);
    assert.equal(fan.filter((r) => r.kind === 'already-queued').length, 2);
    const over = fan.filter((r) => r.kind === 'too-many');
    assert.equal(over.length, 1);
    assert.ok(over[0]!.kind === 'too-many' && over[0]!.waitMs > 0 && over[0]!.waitMs <= 60_000);
    // One more fan from the same address is fine; past five joins from it, refused whoever asks.
    assert.equal((await store.join(eventId, 'neighbour', limits)).kind, 'queued');
    assert.equal((await store.join(eventId, 'third', limits)).kind, 'too-many');
    // Another address, another event: their own counts.
    assert.equal((await store.join(eventId, 'elsewhere', { ...limits, ip: '10.0.0.2' })).kind, 'queued');
    const other = await openQueue();
    assert.equal((await store.join(other, 'eager', limits)).kind, 'queued');
  });

  it("admits at the controller's rate when it is lower than the operator's, and at the operator's when switched off", async () => {
    const eventId = await openQueue({ admitPerSecond: 1000, admissionControl: 'auto' });
    for (let i = 0; i < 400; i++) await store.join(eventId, `fan-${i}`);
    // Before the controller's first step, a cold start: not the ceiling.
    await store.tick(eventId, 60_000, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    const cold = await store.tick(eventId, 60_000, 60_000);
    assert.ok(cold.served <= COLD_START_RATE * 2 + 1, `cold start admitted ${cold.served}`);
    await store.saveControl(eventId, {
      at: Date.now(),
      finished: 0,
      throughput: 0,
      rate: 3,
      backlog: 0,
      targetBacklog: 20,
      targetSeconds: 10,
      limitedBy: 'backlog',
      ceiling: 1000,
      oldestPendingMs: 0,
    });
    const before = cold.served;
    await new Promise((r) => setTimeout(r, 1000));
    const slow = await store.tick(eventId, 60_000, 60_000);
    assert.ok(slow.served - before <= 3 + 1, `at the controller's 3/s: ${slow.served - before}`);
    assert.equal((await store.snapshot(eventId)).effectiveAdmitPerSecond, 3);
    // A backlog under half its target: the controller may still multiply its rate, so ETAs look three periods ahead.
    assert.equal(await store.etaRate(eventId), 3 * 8);
    await store.saveControl(eventId, {
      at: Date.now(),
      finished: 0,
      throughput: 3,
      rate: 3,
      backlog: 40,
      targetBacklog: 20,
      targetSeconds: 10,
      limitedBy: 'backlog',
      ceiling: 1000,
      oldestPendingMs: 0,
    });
    assert.equal(await store.etaRate(eventId), 3);
    // Stopped while a backlog drains: the saga's throughput is what fans far back will be admitted at.
    await store.saveControl(eventId, {
      at: Date.now(),
      finished: 0,
      throughput: 150,
      rate: 1,
      backlog: 4000,
      targetBacklog: 1500,
      targetSeconds: 10,
      limitedBy: 'floor',
      ceiling: 1000,
      oldestPendingMs: 0,
    });
    assert.equal(await store.etaRate(eventId), 150);
    await store.update(eventId, { admissionControl: 'off' });
    await new Promise((r) => setTimeout(r, 200));
    const fast = await store.tick(eventId, 60_000, 60_000);
    assert.ok(fast.served - slow.served >= 50, `switched off, at 1000/s: ${fast.served - slow.served}`);
    const control = await store.control(eventId);
    assert.equal(control.mode, 'off');
    assert.equal(control.last?.rate, 1);
    assert.equal(control.ceiling, 1000);
  });

  it('gives 10,000 concurrent joins 10,000 distinct tickets with no gaps', async () => {
    const eventId = await openQueue();
    const results = await Promise.all(
      Array.from({ length: 10_000 }, (_, i) => store.join(eventId, `fan-${i}`)),
    );
    const tickets = results.map((r) => (r.kind === 'queued' ? r.ticket : -1)).sort((a, b) => a - b);
    assert.equal(new Set(tickets).size, 10_000);
    assert.equal(tickets[0], 1);
    assert.equal(tickets.at(-1), 10_000);
  });

  it('after the opening serves first come, first served: tickets follow join order without inversions', async () => {
    const eventId = await openQueue();
    const tickets: number[] = [];
    for (let i = 0; i < 50; i++) {
      const r = await store.join(eventId, `fan-${i}`);
      assert.equal(r.kind, 'queued');
      if (r.kind === 'queued') tickets.push(r.ticket);
    }
    assert.deepEqual(
      tickets,
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
  });

  it("stamps a heartbeat with Redis's own clock, the one every admission step reads", async () => {
    const eventId = await openQueue();
    await store.join(eventId, 'heart');
    await store.heartbeat(eventId, new Map([['heart', 0]]));
    const [seconds, micros] = await redis.time();
    const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const seen = Number(await redis.zscore(store.key(eventId, 'seen'), 'heart'));
    assert.ok(Math.abs(redisNow - seen) < 5000, `seen at ${seen}, Redis time ${redisNow}`);
  });

  it('keeps one place per user: joining again from another tab returns the same ticket', async () => {
    const eventId = await openQueue();
    await store.join(eventId, 'a');
    const first = await store.join(eventId, 'b');
    const again = await store.join(eventId, 'b');
    assert.deepEqual(again, { kind: 'already-queued', ticket: first.kind === 'queued' ? first.ticket : -1 });
  });

  it('shuffles the pre-queue once at the opening, as a uniform permutation (chi-square over 2,400 openings)', async function () {
    this.timeout(120_000);
    const perms = ['a', 'b', 'c', 'd'];
    const counts = new Map<string, number>();
    for (let run = 0; run < 2400; run++) {
      const eventId = randomUUID();
      await store.configure(eventId, {
        opensAt: new Date(Date.now() - 60_000),
        salesOpenAt: new Date(Date.now() + 60_000),
        admitPerSecond: 1,
        maxActive: 1,
      });
      for (const fan of perms) assert.deepEqual(await store.join(eventId, fan), { kind: 'pre-queue' });
      await redis.hset(store.key(eventId, 'cfg'), 'salesOpenAt', Date.now() - 1);
      await store.tick(eventId, 60_000, 60_000);
      const order = (await Promise.all(perms.map((f) => store.ticketOf(eventId, f)))) as number[];
      const key = order.join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
      // A later arrival goes behind the whole shuffled pre-queue.
      if (run === 0) assert.deepEqual(await store.join(eventId, 'late'), { kind: 'queued', ticket: 5 });
    }
    assert.equal(counts.size, 24, `every one of the 24 orders appears: ${[...counts.keys()]}`);
    const stat = chiSquare([...counts.values()]);
    assert.ok(
      stat < CHI2_23_P001,
      `chi-square ${stat.toFixed(1)} ≥ ${CHI2_23_P001}: not uniform (${JSON.stringify([...counts])})`,
    );
  });

  it('the chi-square check rejects a shuffle that favours one order', () => {
    const biased = Array.from({ length: 24 }, (_, i) => (i === 0 ? 300 : 91));
    assert.ok(chiSquare(biased) >= CHI2_23_P001);
  });

  it('admits in ticket order at the configured rate, and a live rate change counts from the next tick', async () => {
    const eventId = await openQueue({ admitPerSecond: 2 });
    for (let i = 0; i < 200; i++) await store.join(eventId, `fan-${i}`);
    await store.tick(eventId, 60_000, 60_000);
    const slow = await waitFor(async () => {
      const r = await store.tick(eventId, 60_000, 60_000);
      return r.served > 0 ? r : undefined;
    });
    assert.ok(slow.served <= 2, `at 2/s a tick admits one or two, got ${slow.served}`);
    await store.update(eventId, { admitPerSecond: 1000 });
    await new Promise((r) => setImmediate(r));
    const fast = await waitFor(
      async () => {
        const r = await store.tick(eventId, 60_000, 60_000);
        return r.admitted >= 10 ? r : undefined;
      },
      { timeoutMs: 2000, intervalMs: 20, what: 'the faster rate' },
    );
    assert.ok(fast.admitted >= 10);
    const admittedOrder = Object.values(await redis.hgetall(store.key(eventId, 'issued')))
      .map((v) => v.split('|'))
      .sort((a, b) => Number(a[2]) - Number(b[2]) || Number(a[1]) - Number(b[1]))
      .map((v) => Number(v[1]));
    assert.deepEqual(
      admittedOrder,
      [...admittedOrder].sort((a, b) => a - b),
      'admitted in ticket order',
    );
  });

  it('holds at most maxActive inside; a finished booking frees the slot for the next fan', async () => {
    const eventId = await openQueue({ maxActive: 2 });
    for (const fan of ['a', 'b', 'c']) await store.join(eventId, fan);
    await store.tick(eventId, 60_000, 60_000);
    const full = await waitFor(async () => {
      const r = await store.tick(eventId, 60_000, 60_000);
      return r.active === 2 ? r : undefined;
    });
    assert.equal(full.served, 2);
    assert.equal(await store.admissionOf(eventId, 'c'), undefined);
    const a = await store.admissionOf(eventId, 'a');
    assert.ok(await store.spendAdmission(eventId, 'a', a!.tokenId));
    assert.equal(await store.admissionOf(eventId, 'a'), undefined, 'a spent token is dead');
    await waitFor(
      async () =>
        (await store.admissionOf(eventId, 'c')) ?? ((await store.tick(eventId, 60_000, 60_000)) && undefined),
    );
  });

  it('reclaims a no-show: an admission not used within its slot time lapses and the next fan gets in', async () => {
    const eventId = await openQueue({ maxActive: 1 });
    await store.join(eventId, 'no-show');
    await store.join(eventId, 'next');
    await waitFor(
      async () =>
        (await store.admissionOf(eventId, 'no-show')) ??
        ((await store.tick(eventId, 60_000, 300)) && undefined),
    );
    assert.equal(await store.admissionOf(eventId, 'next'), undefined);
    await waitFor(
      async () =>
        (await store.admissionOf(eventId, 'next')) ?? ((await store.tick(eventId, 60_000, 300)) && undefined),
      {
        what: 'the lapsed slot to go to the next fan',
      },
    );
    assert.equal(await store.admissionOf(eventId, 'no-show'), undefined);
  });

  it('an admitted fan who goes silent for the grace period loses the slot; one who keeps asking keeps it', async () => {
    const eventId = await openQueue({ maxActive: 2 });
    for (const fan of ['silent', 'active', 'next']) await store.join(eventId, fan);
    const grace = 400;
    const tickAndTouch = async () => {
      await store.heartbeat(
        eventId,
        new Map([
          ['next', 0],
          ['active', 0],
        ]),
      );
      return store.tick(eventId, grace, 60_000);
    };
    await waitFor(async () => ((await tickAndTouch()).active === 2 ? true : undefined));
    assert.ok(await store.admissionOf(eventId, 'silent'));
    assert.equal(await store.admissionOf(eventId, 'next'), undefined, 'both slots are taken');
    await waitFor(
      async () => (await store.admissionOf(eventId, 'next')) ?? ((await tickAndTouch()) && undefined),
      {
        what: "the silent fan's slot to go to the next fan",
      },
    );
    assert.equal(await store.admissionOf(eventId, 'silent'), undefined);
    assert.ok(await store.admissionOf(eventId, 'active'), 'the fan who kept asking still holds the slot');
  });

  it('activity never stretches an admission past its slot time', async () => {
    const eventId = await openQueue({ maxActive: 1 });
    await store.join(eventId, 'busy');
    await waitFor(
      async () =>
        (await store.admissionOf(eventId, 'busy')) ?? ((await store.tick(eventId, 60_000, 300)) && undefined),
    );
    const admission = await store.admissionOf(eventId, 'busy');
    assert.ok(admission);
    await waitFor(
      async () => {
        await store.heartbeat(eventId, new Map([['busy', 0]]));
        await store.tick(eventId, 60_000, 300);
        return (await store.admissionOf(eventId, 'busy')) === undefined ? Date.now() : undefined;
      },
      { what: 'the busy fan to lapse at the slot time' },
    );
    assert.ok(Date.now() - (await store.admittedAt(eventId, admission.tokenId)) >= 300);
  });

  it('counts the grace from when a fan was told to come back: a long Retry-After far back is not leaving', async () => {
    const eventId = await openQueue();
    for (const fan of ['told-to-wait', 'gone']) await store.join(eventId, fan);
    // Both were last heard from now; one was told to come back in a minute, the other is due at once.
    await store.heartbeat(
      eventId,
      new Map([
        ['told-to-wait', 60_000],
        ['gone', 0],
      ]),
    );
    await new Promise((r) => setTimeout(r, 250));
    await waitFor(async () => {
      const r = await store.tick(eventId, 200, 60_000);
      return r.served >= 2 ? r : undefined;
    });
    assert.ok(await store.admissionOf(eventId, 'told-to-wait'), 'still due: admitted');
    assert.ok((await store.ticketOf(eventId, 'gone'))! < 0, 'past due and the grace: dropped');
  });

  it('drops a waiting fan who stopped heart-beating, without stalling the fans behind', async () => {
    const eventId = await openQueue();
    await store.join(eventId, 'gone');
    await store.join(eventId, 'here');
    await new Promise((r) => setTimeout(r, 250));
    await store.heartbeat(eventId, new Map([['here', 0]]));
    await store.tick(eventId, 200, 60_000);
    const after = await waitFor(async () => {
      const r = await store.tick(eventId, 200, 60_000);
      return r.served >= 2 ? r : undefined;
    });
    assert.equal(after.served, 2);
    assert.ok((await store.ticketOf(eventId, 'gone'))! < 0, 'marked dropped');
    assert.ok(await store.admissionOf(eventId, 'here'));
    assert.equal(
      (await store.join(eventId, 'gone')).kind,
      'queued',
      'a dropped fan may join again, at the back',
    );
  });

  it('pause stops admissions and resume continues them; each tick says whether the queue is paused', async () => {
    const eventId = await openQueue();
    for (let i = 0; i < 20; i++) await store.join(eventId, `fan-${i}`);
    await store.update(eventId, { paused: true });
    await store.tick(eventId, 60_000, 60_000);
    await new Promise((r) => setTimeout(r, 100));
    const paused = await store.tick(eventId, 60_000, 60_000);
    assert.equal(paused.served, 0);
    // What the waiting fans' streams are told with their place (use-cases/queue-updates.ts).
    assert.equal(paused.paused, true);
    await store.update(eventId, { paused: false });
    await waitFor(async () => ((await store.tick(eventId, 60_000, 60_000)).served > 0 ? true : undefined));
    assert.equal((await store.tick(eventId, 60_000, 60_000)).paused, false);
  });

  it('runs two events side by side without either touching the other', async () => {
    const [x, y] = await Promise.all([openQueue({ maxActive: 3 }), openQueue({ maxActive: 5 })]);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        Promise.all([store.join(x, `fan-${i}`), store.join(y, `fan-${i}`)]),
      ),
    );
    await waitFor(
      async () => {
        const [rx, ry] = await Promise.all([store.tick(x, 60_000, 60_000), store.tick(y, 60_000, 60_000)]);
        return rx.active === 3 && ry.active === 5 ? true : undefined;
      },
      { what: 'both queues to fill their own slots' },
    );
    // More ticks change nothing: each queue is full by its own limit, whatever the other does.
    for (let i = 0; i < 5; i++)
      await Promise.all([store.tick(x, 60_000, 60_000), store.tick(y, 60_000, 60_000)]);
    const [sx, sy] = await Promise.all([store.snapshot(x), store.snapshot(y)]);
    assert.deepEqual([sx.active, sx.lastTicket], [3, 10]);
    assert.deepEqual([sy.active, sy.lastTicket], [5, 10]);
  });
});
