import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { testInfra, waitFor } from '@reservex/kit/testing';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { COLD_START_RATE } from '../src/domain/admission-control.ts';
import { admittedAtOfId, parseAdmissionRecord } from '../src/domain/admission-record.ts';
import { LotteryOrder, lotteryKey, MAX_PRE_QUEUE } from '../src/domain/queue-lottery.ts';
import { type QueueStore, queueStore, type TickResult } from '../src/store/queue-store.ts';
import { redisCommandCounter } from '../src/store/redis-commands.ts';

describe('the waiting room queue in Redis', () => {
  let redis: Redis;
  let store: QueueStore;
  const prefix = `test:wr:${randomUUID().slice(0, 8)}:`;

  before(async () => {
    redis = new Redis(testInfra().redisUrl);
    store = queueStore(redis, prefix, redisCommandCounter(new Registry()));
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  // What the admission ticker keeps per event between steps, and each fan's join number: the tests drive the store
  // as the ticker and the waiting room do.
  const known = new Map<string, { order: LotteryOrder | undefined; served: number }>();
  const numbers = new Map<string, number>();
  const numberOf = (eventId: string, user: string) => numbers.get(`${eventId}/${user}`)!;
  const admissionOf = (eventId: string, user: string) => store.admissionOf(eventId, user, 'admission');

  /** A fan joins and is there: their number, and a heartbeat that says so (as a join does, through the ticker). */
  async function join(eventId: string, user: string, expectMs = 0): Promise<number> {
    const joined = await store.join(eventId, user);
    numbers.set(`${eventId}/${user}`, joined.number);
    await store.heartbeat(eventId, new Map([[joined.number, { userId: user, expectMs }]]));
    return joined.number;
  }

  /** Fans who say they are still there, each due again after so many milliseconds. */
  async function present(eventId: string, fans: Record<string, number>): Promise<void> {
    await store.heartbeat(
      eventId,
      new Map(
        Object.entries(fans).map(([user, expectMs]) => [numberOf(eventId, user), { userId: user, expectMs }]),
      ),
    );
  }

  async function tick(eventId: string, graceMs: number, slotMs: number): Promise<TickResult> {
    const before = known.get(eventId) ?? { order: undefined, served: 0 };
    const r = await store.tick(eventId, graceMs, slotMs, {
      ...before,
      lotteryKey: lotteryKey('test secret', eventId),
    });
    const order = before.order ?? (r.lottery === undefined ? undefined : new LotteryOrder(r.lottery));
    known.set(eventId, { order, served: r.served });
    return r;
  }

  /**
   * The Redis commands that touched one event's keys while `work` ran, as MONITOR saw them: the script calls and the
   * commands they ran. Counting the server's total would count every other client's too.
   */
  async function commandsOn(eventId: string, work: () => Promise<unknown>): Promise<string[]> {
    const monitor = await redis.monitor();
    const seen: string[] = [];
    // MONITOR's feed trails the replies a little: a read of a key nothing else touches marks the end.
    const end = store.key(eventId, 'end-of-work');
    let ended = false;
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[1] === end) ended = true;
      else if (args.some((a) => a.includes(eventId))) seen.push(args[0]!.toLowerCase());
    });
    try {
      await work();
      await redis.get(end);
      await waitFor(async () => ended, { what: 'the monitor to catch up' });
    } finally {
      monitor.disconnect();
    }
    return seen;
  }

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
    // Sales are open: the first step seals an empty pre-queue, so the tests' joins queue first come, first served.
    await tick(eventId, 60_000, 60_000);
    return eventId;
  }

  it("admits at the controller's rate when it is lower than the operator's, and at the operator's when switched off", async () => {
    const eventId = await openQueue({ admitPerSecond: 1000, admissionControl: 'auto' });
    for (let i = 0; i < 400; i++) await join(eventId, `fan-${i}`);
    // Before the controller's first step, a cold start: not the ceiling.
    await tick(eventId, 60_000, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    const cold = await tick(eventId, 60_000, 60_000);
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
    const slow = await tick(eventId, 60_000, 60_000);
    assert.ok(slow.served - before <= 3 + 1, `at the controller's 3/s: ${slow.served - before}`);
    assert.equal((await store.snapshot(eventId)).effectiveAdmitPerSecond, 3);
    // A backlog under half its target: the controller may still multiply its rate, so ETAs look three periods ahead.
    assert.equal(await store.etaRate(eventId, 'status'), 3 * 8);
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
    assert.equal(await store.etaRate(eventId, 'status'), 3);
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
    assert.equal(await store.etaRate(eventId, 'status'), 150);
    await store.update(eventId, { admissionControl: 'off' });
    await new Promise((r) => setTimeout(r, 200));
    const fast = await tick(eventId, 60_000, 60_000);
    assert.ok(fast.served - slow.served >= 50, `switched off, at 1000/s: ${fast.served - slow.served}`);
    const control = await store.control(eventId);
    assert.equal(control.mode, 'off');
    assert.equal(control.last?.rate, 1);
    assert.equal(control.ceiling, 1000);
  });

  it('a first join is three Redis commands: the script, HINCRBY and HSETNX; another tab gets the same number back', async () => {
    const eventId = await openQueue();
    await store.join(eventId, 'warm-up');
    let joined: Awaited<ReturnType<QueueStore['join']>> | undefined;
    const cost = await commandsOn(eventId, async () => {
      joined = await store.join(eventId, 'counted');
    });
    assert.deepEqual(cost, ['evalsha', 'hincrby', 'hsetnx'], `a join ran ${cost.join(', ')}`);
    assert.ok(joined !== undefined);
    assert.equal(joined.fresh, true);
    const again = await store.join(eventId, 'counted');
    assert.deepEqual([again.fresh, again.number], [false, joined.number]);
    // The number that second join drew is a gap: the admission step skips it without calling it a drop.
    assert.equal(await redis.sismember(store.key(eventId, 'gaps'), String(joined.number + 1)), 1);
  });

  it('gives 10,000 concurrent joins 10,000 distinct numbers with no gaps, in join order', async () => {
    const eventId = await openQueue();
    const results = await Promise.all(
      Array.from({ length: 10_000 }, (_, i) => store.join(eventId, `fan-${i}`)),
    );
    const sorted = results.map((r) => r.number).sort((a, b) => a - b);
    assert.equal(new Set(sorted).size, 10_000);
    assert.equal(sorted[0], 1);
    assert.equal(sorted.at(-1), 10_000);
    const inOrder = await openQueue();
    const one = [];
    for (let i = 0; i < 50; i++) one.push((await store.join(inOrder, `fan-${i}`)).number);
    assert.deepEqual(
      one,
      Array.from({ length: 50 }, (_, i) => i + 1),
      'one after another: no inversions',
    );
  });

  it("stamps a heartbeat with Redis's own clock, the one every admission step reads, and records who holds the number", async () => {
    const eventId = await openQueue();
    const n = await join(eventId, 'heart');
    const [seconds, micros] = await redis.time();
    const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const seen = Number(await redis.zscore(store.key(eventId, 'seen'), String(n)));
    assert.ok(Math.abs(redisNow - seen) < 5000, `seen at ${seen}, Redis time ${redisNow}`);
    assert.equal(await redis.hget(store.key(eventId, 'owners'), String(n)), 'heart');
  });

  it('sends any number of heartbeats in batches of two commands each, not one per fan', async () => {
    const eventId = await openQueue();
    const fans = new Map(
      Array.from({ length: 5000 }, (_, i) => [i + 1, { userId: `fan-${i}`, expectMs: 0 }]),
    );
    const cost = await commandsOn(eventId, () => store.heartbeat(eventId, fans));
    // Three batches of at most 2,000: each the script, ZADD and HSET (and TIME, which names no key).
    assert.deepEqual(cost.sort(), [
      'evalsha',
      'evalsha',
      'evalsha',
      'hset',
      'hset',
      'hset',
      'zadd',
      'zadd',
      'zadd',
    ]);
    assert.equal(await redis.zcard(store.key(eventId, 'seen')), 5000);
    assert.equal(await redis.hlen(store.key(eventId, 'owners')), 5000);
  });

  it('seals the pre-queue at the opening: everyone who joined before draws a place in 1…P, and later joiners queue behind in join order', async () => {
    const eventId = randomUUID();
    await store.configure(eventId, {
      opensAt: new Date(Date.now() - 60_000),
      salesOpenAt: new Date(Date.now() + 60_000),
      admitPerSecond: 1000,
      maxActive: 1_000_000,
      admissionControl: 'off',
    });
    const early = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    for (const fan of early) await join(eventId, fan);
    // Before the opening no step admits anyone, and there is no lottery yet.
    const before = await tick(eventId, 60_000, 60_000);
    assert.deepEqual([before.served, before.lottery], [0, undefined]);
    await redis.hset(store.key(eventId, 'cfg'), 'salesOpenAt', Date.now() - 1);
    const sealed = await tick(eventId, 60_000, 60_000);
    assert.equal(sealed.admitted, 0, 'the sealing step admits nobody');
    assert.equal(sealed.lottery?.size, early.length);
    assert.equal(sealed.lottery?.key, lotteryKey('test secret', eventId), 'the seal publishes the key');
    const order = new LotteryOrder(sealed.lottery!);
    const places = early.map((fan) => order.placeOf(numberOf(eventId, fan)));
    assert.deepEqual(
      [...places].sort((x, y) => x! - y!),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    const late = await join(eventId, 'late');
    assert.equal(order.placeOf(late), early.length + 1, 'behind the whole pre-queue');
    // The admission step goes place by place, finding each place's number through the lottery's order.
    await waitFor(async () => ((await tick(eventId, 60_000, 60_000)).served >= 9 ? true : undefined));
    const issued = Object.values(await redis.hgetall(store.key(eventId, 'issued'))).map((v) => v.split('|'));
    const placeOfFan = new Map(issued.map(([user, place]) => [user!, Number(place)]));
    for (const fan of early)
      assert.equal(placeOfFan.get(fan), order.placeOf(numberOf(eventId, fan)), `${fan} at its draw`);
    assert.equal(placeOfFan.get('late'), 9);
    // Sealed once: a second sealing step would have counted another pre-queue.
    assert.deepEqual((await tick(eventId, 60_000, 60_000)).lottery, sealed.lottery);
  });

  it('seals a pre-queue larger than the lottery holds at its largest size: the numbers past it queue in join order behind', async () => {
    const eventId = randomUUID();
    await store.configure(eventId, {
      opensAt: new Date(Date.now() - 60_000),
      salesOpenAt: new Date(Date.now() - 1),
      admitPerSecond: 1000,
      maxActive: 10,
      admissionControl: 'off',
    });
    // As if more fans had joined before the opening than a join number's 24 bits of the draw's sort key can hold.
    await redis.hset(store.key(eventId, 'cfg'), 'seq', MAX_PRE_QUEUE + 5);
    // Straight to the store: the order of sixteen million draws is not this test's business.
    const sealed = await store.tick(eventId, 60_000, 60_000, {
      order: undefined,
      served: 0,
      lotteryKey: lotteryKey('test secret', eventId),
    });
    assert.equal(sealed.lottery?.size, MAX_PRE_QUEUE);
    assert.equal(sealed.lastNumber, MAX_PRE_QUEUE + 5);
  });

  it('admits in place order at the configured rate, and a live rate change counts from the next tick', async () => {
    const eventId = await openQueue({ admitPerSecond: 2 });
    for (let i = 0; i < 200; i++) await join(eventId, `fan-${i}`);
    await tick(eventId, 60_000, 60_000);
    const slow = await waitFor(async () => {
      const r = await tick(eventId, 60_000, 60_000);
      return r.served > 0 ? r : undefined;
    });
    assert.ok(slow.served <= 2, `at 2/s a tick admits one or two, got ${slow.served}`);
    await store.update(eventId, { admitPerSecond: 1000 });
    await new Promise((r) => setImmediate(r));
    const fast = await waitFor(
      async () => {
        const r = await tick(eventId, 60_000, 60_000);
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
      'admitted in place order',
    );
    // Each admission's id says when it was given, as the log does: a fan's look reads no log for it.
    const log = Object.entries(await redis.hgetall(store.key(eventId, 'issued')));
    assert.ok(log.length >= 10);
    for (const [tokenId, record] of log)
      assert.equal(admittedAtOfId(tokenId), parseAdmissionRecord(record)?.admittedAt, tokenId);
    // Who is inside, as the step answers it (from its own count, not read again), is what Redis holds.
    assert.equal(fast.active, await redis.zcard(store.key(eventId, 'active')));
    assert.equal(fast.served, Number(await redis.hget(store.key(eventId, 'cfg'), 'served')));
  });

  it('holds at most maxActive inside; a finished booking frees the slot for the next fan', async () => {
    const eventId = await openQueue({ maxActive: 2 });
    for (const fan of ['a', 'b', 'c']) await join(eventId, fan);
    await tick(eventId, 60_000, 60_000);
    const full = await waitFor(async () => {
      const r = await tick(eventId, 60_000, 60_000);
      return r.active === 2 ? r : undefined;
    });
    assert.equal(full.served, 2);
    assert.equal(await admissionOf(eventId, 'c'), undefined);
    const a = await admissionOf(eventId, 'a');
    assert.ok(await store.spendAdmission(eventId, 'a', a!.tokenId));
    assert.equal(await admissionOf(eventId, 'a'), undefined, 'a spent token is dead');
    await waitFor(
      async () => (await admissionOf(eventId, 'c')) ?? ((await tick(eventId, 60_000, 60_000)) && undefined),
    );
  });

  it('reclaims a no-show: an admission not used within its slot time lapses and the next fan gets in', async () => {
    const eventId = await openQueue({ maxActive: 1 });
    await join(eventId, 'no-show');
    await join(eventId, 'next');
    await waitFor(
      async () =>
        (await admissionOf(eventId, 'no-show')) ?? ((await tick(eventId, 60_000, 300)) && undefined),
    );
    assert.equal(await admissionOf(eventId, 'next'), undefined);
    await waitFor(
      async () => (await admissionOf(eventId, 'next')) ?? ((await tick(eventId, 60_000, 300)) && undefined),
      {
        what: 'the lapsed slot to go to the next fan',
      },
    );
    assert.equal(await admissionOf(eventId, 'no-show'), undefined);
  });

  it('an admitted fan who goes silent for the grace period loses the slot; one who keeps asking keeps it', async () => {
    const eventId = await openQueue({ maxActive: 2 });
    for (const fan of ['silent', 'active', 'next']) await join(eventId, fan);
    const grace = 400;
    const tickAndTouch = async () => {
      await present(eventId, { next: 0, active: 0 });
      return tick(eventId, grace, 60_000);
    };
    await waitFor(async () => ((await tickAndTouch()).active === 2 ? true : undefined));
    assert.ok(await admissionOf(eventId, 'silent'));
    assert.equal(await admissionOf(eventId, 'next'), undefined, 'both slots are taken');
    await waitFor(async () => (await admissionOf(eventId, 'next')) ?? ((await tickAndTouch()) && undefined), {
      what: "the silent fan's slot to go to the next fan",
    });
    assert.equal(await admissionOf(eventId, 'silent'), undefined);
    assert.ok(await admissionOf(eventId, 'active'), 'the fan who kept asking still holds the slot');
  });

  it('activity never stretches an admission past its slot time', async () => {
    const eventId = await openQueue({ maxActive: 1 });
    await join(eventId, 'busy');
    await waitFor(
      async () => (await admissionOf(eventId, 'busy')) ?? ((await tick(eventId, 60_000, 300)) && undefined),
    );
    const admission = await admissionOf(eventId, 'busy');
    assert.ok(admission);
    await waitFor(
      async () => {
        await present(eventId, { busy: 0 });
        await tick(eventId, 60_000, 300);
        return (await admissionOf(eventId, 'busy')) === undefined ? Date.now() : undefined;
      },
      { what: 'the busy fan to lapse at the slot time' },
    );
    assert.ok(Date.now() - (await store.admittedAt(eventId, admission.tokenId)) >= 300);
  });

  it('counts the grace from when a fan was told to come back: a long Retry-After far back is not leaving', async () => {
    const eventId = await openQueue();
    for (const fan of ['told-to-wait', 'gone']) await join(eventId, fan);
    // Both were last heard from now; one was told to come back in a minute, the other is due at once.
    await present(eventId, { 'told-to-wait': 60_000, gone: 0 });
    await new Promise((r) => setTimeout(r, 250));
    await waitFor(async () => {
      const r = await tick(eventId, 200, 60_000);
      return r.served >= 2 ? r : undefined;
    });
    assert.ok(await admissionOf(eventId, 'told-to-wait'), 'still due: admitted');
    assert.equal(await admissionOf(eventId, 'gone'), undefined, 'past due and the grace: dropped');
    assert.equal((await store.snapshot(eventId)).droppedTotal, 1);
  });

  it('drops a waiting fan who stopped heart-beating, without stalling the fans behind', async () => {
    const eventId = await openQueue();
    await join(eventId, 'gone');
    await join(eventId, 'here');
    await new Promise((r) => setTimeout(r, 250));
    await present(eventId, { here: 0 });
    await tick(eventId, 200, 60_000);
    const after = await waitFor(async () => {
      const r = await tick(eventId, 200, 60_000);
      return r.served >= 2 ? r : undefined;
    });
    assert.equal(after.served, 2);
    assert.equal(await admissionOf(eventId, 'gone'), undefined, 'dropped');
    assert.equal((await store.snapshot(eventId)).droppedTotal, 1);
    assert.ok(await admissionOf(eventId, 'here'));
    const again = await store.rejoin(eventId, 'gone');
    assert.equal(again.number, 3, 'a dropped fan may join again, at the back');
  });

  it('one admission step costs Redis a few commands however many places it walks, fans it admits or slots it frees', async () => {
    const eventId = await openQueue({ admitPerSecond: 100_000 });
    const fans = 3000;
    const joined = await Promise.all(Array.from({ length: fans }, (_, i) => store.join(eventId, `fan-${i}`)));
    // One fan in two is there; the others have gone, and are dropped at their turn.
    await store.heartbeat(
      eventId,
      new Map(
        joined.flatMap((j, i) =>
          i % 2 === 0 ? [[j.number, { userId: `fan-${i}`, expectMs: 0 }] as const] : [],
        ),
      ),
    );
    let last: TickResult | undefined;
    let lapsed = 0;
    const walking = await commandsOn(eventId, () =>
      waitFor(async () => {
        last = await tick(eventId, 60_000, 300);
        lapsed += last.lapsed;
        return last.served >= fans ? last : undefined;
      }),
    );
    const steps = walking.filter((c) => c === 'evalsha' || c === 'eval').length;
    const stats = await store.snapshot(eventId);
    assert.equal(stats.admittedTotal, fans / 2);
    assert.equal(stats.droppedTotal, fans / 2);
    // About 16 commands a step, three for each batch of places read and one for each key written per 1,000 members:
    // under 50 here. Place by place it would be thousands.
    assert.ok(
      walking.length <= steps * 50,
      `${walking.length} commands in ${steps} steps walking ${fans} places: a step's cost grew with its places`,
    );
    // Past the slot time every admission lapses at the next step, in as few commands (a slow machine may have
    // freed some during the walk already).
    await new Promise((r) => setTimeout(r, 400));
    const freeing = await commandsOn(eventId, async () => {
      last = await tick(eventId, 60_000, 300);
    });
    assert.equal(lapsed + (last?.lapsed ?? 0), fans / 2);
    assert.equal(last?.active, 0);
    assert.ok(freeing.length <= 50, `${freeing.length} commands to free ${last?.lapsed} slots`);
  });

  it('pause stops admissions and resume continues them; each tick says whether the queue is paused', async () => {
    const eventId = await openQueue();
    for (let i = 0; i < 20; i++) await join(eventId, `fan-${i}`);
    await store.update(eventId, { paused: true });
    await tick(eventId, 60_000, 60_000);
    await new Promise((r) => setTimeout(r, 100));
    const paused = await tick(eventId, 60_000, 60_000);
    assert.equal(paused.served, 0);
    // What the waiting fans' streams are told with their place (use-cases/queue-updates.ts).
    assert.equal(paused.paused, true);
    await store.update(eventId, { paused: false });
    await waitFor(async () => ((await tick(eventId, 60_000, 60_000)).served > 0 ? true : undefined));
    assert.equal((await tick(eventId, 60_000, 60_000)).paused, false);
  });

  it('runs two events side by side without either touching the other', async () => {
    const [x, y] = await Promise.all([openQueue({ maxActive: 3 }), openQueue({ maxActive: 5 })]);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => Promise.all([join(x, `fan-${i}`), join(y, `fan-${i}`)])),
    );
    await waitFor(
      async () => {
        const [rx, ry] = await Promise.all([tick(x, 60_000, 60_000), tick(y, 60_000, 60_000)]);
        return rx.active === 3 && ry.active === 5 ? true : undefined;
      },
      { what: 'both queues to fill their own slots' },
    );
    // More ticks change nothing: each queue is full by its own limit, whatever the other does.
    for (let i = 0; i < 5; i++) await Promise.all([tick(x, 60_000, 60_000), tick(y, 60_000, 60_000)]);
    const [sx, sy] = await Promise.all([store.snapshot(x), store.snapshot(y)]);
    assert.deepEqual([sx.active, sx.lastTicket], [3, 10]);
    assert.deepEqual([sy.active, sy.lastTicket], [5, 10]);
  });
});
