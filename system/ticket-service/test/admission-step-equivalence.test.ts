import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { testInfra } from '@reservex/kit/testing';
import { Redis } from 'ioredis';
import { TICK, TICK_KEYS } from '../src/store/queue-scripts.ts';
import { PLACE_BY_PLACE_TICK } from './place-by-place-tick.ts';

const GRACE_MS = 20_000;
const SLOT_MS = 60_000;
// Every time in a state lies in the middle of a 10-second grid, so the two steps, run a few milliseconds apart,
// decide alike, and each time they leave behind reads the same as its grid cell from that step's own clock.
const GRID_MS = 10_000;

type Command = [string, string, ...(string | number)[]];

/** A queue as an admission step may find it: sealed or not, paused or not, fans there, gone or given back, slots due. */
function randomQueue(random: () => number, now: number) {
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)]!;
  const at = (cell: number) => now + cell * GRID_MS + GRID_MS / 2;
  const lastNumber = pick([0, 1, 5, 40, 300, 2500]);
  const served = int(0, lastNumber);
  const sealed = random() > 0.1;
  const preSize = sealed ? int(0, lastNumber) : 0;
  const users = Math.max(1, Math.floor(lastNumber * pick([0.5, 1, 1.2])));
  const commands: Command[] = [];
  const cfg: Record<string, string | number> = {
    salesOpenAt: random() < 0.05 ? now + 60_000 : now - 1000,
    rate: pick([1, 3, 50, 500, 5000]),
    maxActive: pick([1, 10, 100, 10_000]),
    // Long enough ago that the credit is full, whatever the few milliseconds between the two steps.
    lastTick: at(-1),
    credit: random() * 3,
    control: pick(['off', 'auto']),
    seq: lastNumber,
  };
  if (served > 0 || random() < 0.5) cfg.served = served;
  if (random() < 0.1) cfg.paused = '1';
  if (random() < 0.3) cfg.ctlRate = pick([0, 2, 40]);
  if (sealed) Object.assign(cfg, { preSize, preSeed: `key-${int(1, 1e6)}` });
  commands.push(['hset', 'cfg', ...Object.entries(cfg).flat()]);
  for (let n = 1; n <= lastNumber; n++) {
    // Several numbers may name one fan, as a rejoin does.
    if (random() < 0.85) commands.push(['hset', 'owners', n, `u${int(1, users)}`]);
    // Seen within the grace, seen before it, due later (told to come back), or never seen.
    const seen = random();
    if (seen < 0.5) commands.push(['zadd', 'seen', at(int(-2, -1)), n]);
    else if (seen < 0.7) commands.push(['zadd', 'seen', at(int(-8, -3)), n]);
    else if (seen < 0.8) commands.push(['zadd', 'seen', at(int(0, 9)), n]);
    if (random() < 0.1) commands.push(['sadd', 'gaps', n]);
  }
  const inside = pick([0, 1, 5, 50, 1500]);
  for (let i = 0; i < inside; i++) {
    const user = `a${i}`;
    const due = random() < 0.6;
    commands.push(['zadd', 'active', due ? at(int(-5, -1)) : at(int(0, 5)), user]);
    if (random() < 0.9) commands.push(['hset', 'tickets', user, `${int(1, Math.max(1, lastNumber))}|${now}`]);
    if (random() < 0.8) {
      const token = `t.${i}`;
      commands.push(['hset', 'admitted', user, token]);
      // Its slot time over, or not yet.
      const issuedAt = random() < 0.5 ? at(int(-12, -7)) : at(int(-5, -1));
      if (random() < 0.9) commands.push(['hset', 'issued', token, `${user}|${i}|${issuedAt}`]);
      if (random() < 0.5) commands.push(['zadd', 'acked', at(0), user]);
    }
  }
  // The pre-queue's order as the caller hands it in, from the serving counter on; sometimes cut short, as when
  // another instance moved the queue on.
  const order = Array.from({ length: preSize }, (_, i) => i + 1).sort(() => random() - 0.5);
  let numbers = order.slice(served, served + 4096);
  if (random() < 0.2) numbers = numbers.slice(0, int(0, numbers.length));
  const args = [int(1, 1e9), GRACE_MS, SLOT_MS, pick([3, 20_000]), served + 1, 'lottery-key', ...numbers];
  return { commands, args };
}

describe('the batched admission step against the place-by-place one', () => {
  let redis: Redis;
  const prefix = `test:tick-eq:${randomUUID().slice(0, 8)}:`;

  before(() => {
    redis = new Redis(testInfra().redisUrl);
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  /** What a step left behind, with every time written as its distance from that step's own clock. */
  async function outcome(tag: string, answer: Array<number | string>) {
    const now = Number(answer[6]);
    const key = (name: string) => `${prefix}{${tag}}:${name}`;
    const relative = (value: string | number) =>
      String(value).replace(/\d{13}/g, (ms) => `T${Math.floor((Number(ms) - now) / GRID_MS)}`);
    const hash = async (name: string) =>
      Object.entries(await redis.hgetall(key(name)))
        // An admission's id, a field of the log, carries when it was given.
        .map(([field, value]) => `${relative(field)}=${relative(value)}`)
        .sort();
    const zset = async (name: string) => {
      const flat = await redis.zrange(key(name), 0, -1, 'WITHSCORES');
      const members: string[] = [];
      for (let i = 0; i < flat.length; i += 2) members.push(`${flat[i]}=${relative(flat[i + 1]!)}`);
      return members.sort();
    };
    return {
      // The last value is the commands the step ran: that is meant to differ.
      answer: answer.slice(0, -1).map(relative),
      // The credit grows with the milliseconds between the two steps, and the opening is the state's own.
      cfg: (await hash('cfg')).filter((f) => !f.startsWith('credit=') && !f.startsWith('salesOpenAt=')),
      active: await zset('active'),
      admitted: await hash('admitted'),
      issued: await hash('issued'),
      acked: await zset('acked'),
      stats: await hash('stats'),
    };
  }

  it('admits, drops, frees and writes the same as the place-by-place step on 150 random queues, in far fewer commands', async () => {
    let seed = 2026;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let batchedCommands = 0;
    let placeByPlaceCommands = 0;
    for (let round = 0; round < 150; round++) {
      const [seconds, micros] = await redis.time();
      const queue = randomQueue(random, Number(seconds) * 1000 + Math.floor(Number(micros) / 1000));
      const results = [];
      for (const [tag, script] of [
        ['reference', PLACE_BY_PLACE_TICK],
        ['batched', TICK],
      ] as const) {
        const load = redis.multi();
        for (const [command, name, ...args] of queue.commands)
          (load as unknown as Record<string, (...a: unknown[]) => unknown>)[command]!(
            `${prefix}{${tag}}:${name}`,
            ...args,
          );
        await load.exec();
        const keys = TICK_KEYS.map((name) => `${prefix}{${tag}}:${name}`);
        const answer = (await redis.eval(script, keys.length, ...keys, ...queue.args)) as Array<
          number | string
        >;
        results.push(await outcome(tag, answer));
        const commands = Number(answer.at(-1));
        if (tag === 'batched') batchedCommands += commands;
        else placeByPlaceCommands += commands;
      }
      assert.deepEqual(results[1], results[0], `round ${round}: the batched step differs`);
      const stale = await redis.keys(`${prefix}*`);
      if (stale.length > 0) await redis.del(...stale);
    }
    assert.ok(
      batchedCommands * 10 < placeByPlaceCommands,
      `${batchedCommands} commands batched against ${placeByPlaceCommands} place by place`,
    );
  });
});
