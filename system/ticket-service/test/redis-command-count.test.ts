import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { testInfra, waitFor } from '@reservex/kit/testing';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { LotteryOrder, lotteryKey } from '../src/domain/queue-lottery.ts';
import { type QueueStore, queueStore } from '../src/store/queue-store.ts';
import {
  REDIS_PURPOSES,
  type RedisCommandCounter,
  type RedisPurpose,
  redisCommandCounter,
} from '../src/store/redis-commands.ts';

type Counts = Record<RedisPurpose, number>;

async function countsOf(counter: RedisCommandCounter): Promise<Counts> {
  const counts = Object.fromEntries(REDIS_PURPOSES.map((p) => [p, 0])) as Counts;
  for (const { labels, value } of (await counter.get()).values)
    counts[labels.purpose as RedisPurpose] += value;
  return counts;
}

/**
 * What MONITOR saw one connection send, the commands its scripts ran inside included. Redis feeds a script's own line
 * to monitors before the commands it runs (shown as from "lua"), and runs nothing else meanwhile: the lua lines right
 * after one of this connection's script lines are that script's.
 */
async function monitorOf(client: Redis) {
  const address = /addr=(\S+)/.exec(String(await client.client('INFO')))![1];
  const marker = new Redis(testInfra().redisUrl);
  const monitor = await new Redis(testInfra().redisUrl).monitor();
  const lines: Array<{ source: string; args: string[] }> = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => lines.push({ source, args }));
  let cursor = 0;
  return {
    /** The commands `work` sent on the connection, by name, in the order Redis ran them. */
    async commandsOf(work: () => Promise<unknown>): Promise<string[]> {
      await work();
      // MONITOR's feed trails the replies: another connection's ECHO marks where this work's commands end.
      const token = randomUUID();
      await marker.echo(token);
      const end = await waitFor(
        async () => {
          const at = lines.findIndex((l, i) => i >= cursor && l.source !== 'lua' && l.args[1] === token);
          return at >= 0 ? at : undefined;
        },
        { what: 'the monitor to catch up' },
      );
      const seen: string[] = [];
      let ours = false;
      for (const { source, args } of lines.slice(cursor, end)) {
        if (source !== 'lua') ours = source === address;
        if (ours) seen.push(args[0]!.toLowerCase());
      }
      cursor = end + 1;
      return seen;
    },
    close() {
      monitor.disconnect();
      marker.disconnect();
    },
  };
}

describe("the waiting room's Redis commands, counted by purpose", () => {
  let redis: Redis;
  let counter: RedisCommandCounter;
  let store: QueueStore;
  let watch: Awaited<ReturnType<typeof monitorOf>>;
  const prefix = `test:wr-cost:${randomUUID().slice(0, 8)}:`;

  before(async () => {
    // A connection of the store's own: MONITOR tells its commands from everyone else's by its address.
    redis = new Redis(testInfra().redisUrl);
    counter = redisCommandCounter(new Registry());
    store = queueStore(redis, prefix, counter);
    watch = await monitorOf(redis);
  });
  after(async () => {
    watch.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('a script call is its line and then the commands it ran, as this test reads MONITOR', async () => {
    const commands = await watch.commandsOf(() =>
      redis.eval("return redis.call('ECHO', ARGV[1])", 0, randomUUID()),
    );
    assert.deepEqual(commands, ['eval', 'echo'], 'this Redis feeds MONITOR in another order');
  });

  it("counts every command a join, presence, ticks, a place read, a booking's admission, the shared status and the controls send, scripts' inner commands and all, as MONITOR sees them", async () => {
    const eventId = randomUUID();
    const numbers = new Map<string, number>();
    const key = lotteryKey('test secret', eventId);
    let known: { order: LotteryOrder | undefined; served: number } = { order: undefined, served: 0 };
    const tick = async () => {
      const r = await store.tick(eventId, 60_000, 60_000, { ...known, lotteryKey: key });
      const order = known.order ?? (r.lottery === undefined ? undefined : new LotteryOrder(r.lottery));
      known = { order, served: r.served };
      return r;
    };
    const joinAs = async (user: string) => numbers.set(user, (await store.join(eventId, user)).number);
    let tokenId = '';

    const steps: Array<[RedisPurpose, string, () => Promise<unknown>]> = [
      [
        'control',
        'a new queue, and its settings checked',
        async () => {
          await store.configure(eventId, {
            opensAt: new Date(Date.now() - 60_000),
            salesOpenAt: new Date(Date.now() - 1000),
            admitPerSecond: 1000,
            maxActive: 10,
            admissionControl: 'off',
          });
          assert.equal(await store.exists(eventId), true);
        },
      ],
      ['tick', 'the opening, sealing an empty pre-queue', tick],
      [
        'join',
        'a first join, a join from another tab, and the reads a join answers with',
        async () => {
          await joinAs('fan');
          assert.equal((await store.join(eventId, 'fan')).fresh, false);
          await store.lottery(eventId, 'join');
          await store.served(eventId, 'join');
          await store.admissionOf(eventId, 'fan', 'join');
          await store.etaRate(eventId, 'join');
        },
      ],
      ['join', 'a rejoin at the back', () => store.rejoin(eventId, 'fan')],
      ['join', 'more fans, one of whom will not be there', () => Promise.all(['b', 'c', 'gone'].map(joinAs))],
      [
        'presence',
        'a batch of heartbeats',
        () =>
          store.heartbeat(
            eventId,
            new Map(['b', 'c'].map((user) => [numbers.get(user)!, { userId: user, expectMs: 0 }])),
          ),
      ],
      [
        'tick',
        'steps that admit the fans there and drop the one gone',
        () => waitFor(async () => ((await tick()).served >= numbers.get('gone')! ? true : undefined)),
      ],
      [
        'place',
        "an admitted fan's own place",
        async () => {
          await store.joinedOf(eventId, 'b');
          tokenId = (await store.admissionOf(eventId, 'b', 'place'))!.tokenId;
          await store.acknowledge(eventId, 'b');
          await store.admittedAt(eventId, tokenId);
          await store.lottery(eventId, 'place');
          await store.served(eventId, 'place');
          await store.etaRate(eventId, 'place');
        },
      ],
      [
        'admission',
        'a booking through the gate, and a second try with the spent token',
        async () => {
          assert.equal((await store.admissionOf(eventId, 'b', 'admission'))?.tokenId, tokenId);
          assert.equal(await store.spendAdmission(eventId, 'b', tokenId), true);
          assert.equal(await store.spendAdmission(eventId, 'b', tokenId), false);
        },
      ],
      [
        'status',
        'the shared status',
        async () => {
          await store.etaRate(eventId, 'status');
          await store.lottery(eventId, 'status');
          await store.served(eventId, 'status');
        },
      ],
      [
        'control',
        "an operator's change and view, and the admission controller's step",
        async () => {
          await store.update(eventId, { admitPerSecond: 500 });
          await store.snapshot(eventId);
          const control = await store.control(eventId);
          assert.equal(await store.claimControl(eventId, 'instance', 1000), true);
          await store.saveControl(eventId, {
            at: Date.now(),
            finished: 0,
            throughput: 0,
            rate: 5,
            backlog: control.acknowledged,
            targetBacklog: 20,
            targetSeconds: 10,
            limitedBy: 'backlog',
            ceiling: 500,
            oldestPendingMs: 0,
          });
        },
      ],
    ];

    const seenTotal = Object.fromEntries(REDIS_PURPOSES.map((p) => [p, 0])) as Counts;
    const start = await countsOf(counter);
    for (const [purpose, what, work] of steps) {
      const before = await countsOf(counter);
      const seen = await watch.commandsOf(work);
      const after = await countsOf(counter);
      const counted = REDIS_PURPOSES.map((p) => [p, after[p] - before[p]]).filter(([, n]) => n !== 0);
      assert.deepEqual(counted, [[purpose, seen.length]], `${what}: MONITOR saw ${seen.join(', ')}`);
      seenTotal[purpose] += seen.length;
    }
    const end = await countsOf(counter);
    assert.deepEqual(Object.fromEntries(REDIS_PURPOSES.map((p) => [p, end[p] - start[p]])), seenTotal);
    const snapshot = await store.snapshot(eventId);
    assert.ok(snapshot.admittedTotal >= 2 && snapshot.droppedTotal >= 1, 'the ticks admitted and dropped');
  });
});
