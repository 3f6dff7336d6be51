import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { testInfra, waitFor } from '@reservex/kit/testing';
import { JOIN } from '@reservex/ticket-service/queue-scripts';
import { Redis } from 'ioredis';
import { Counter, Registry } from 'prom-client';
import {
  benchmarkRate,
  commandsBetween,
  commandsByPurpose,
  commandsPerJoin,
  joinBenchmarkArgs,
  joinScriptBenchmark,
  redisBenchmarkArgs,
  sumOf,
  waitingCostOf,
} from '../bench/redis-costs.ts';
import { WAITING_PURPOSES } from '../src/report/process-figures.ts';

describe("the queue bench's Redis costs", () => {
  it("reads ticket-service's command counter by purpose from /metrics, whatever other labels it carries", async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: 'ticket-service' });
    const counter = new Counter({
      name: 'waiting_room_redis_commands_total',
      help: 'as ticket-service registers it',
      labelNames: ['purpose'] as const,
      registers: [registry],
    });
    const other = new Counter({ name: 'waiting_room_other_total', help: 'not it', registers: [registry] });
    other.inc(99);
    counter.inc({ purpose: 'join' }, 3);
    counter.inc({ purpose: 'tick' }, 1.5e7);
    counter.inc({ purpose: 'status' }, 0);
    const before = commandsByPurpose(await registry.metrics());
    assert.deepEqual(before, { join: 3, tick: 1.5e7, status: 0 });
    counter.inc({ purpose: 'presence' }, 8);
    counter.inc({ purpose: 'tick' }, 20);
    const perSecond = commandsBetween(before, commandsByPurpose(await registry.metrics()), 4);
    assert.deepEqual(perSecond, { join: 0, tick: 5, status: 0, presence: 2 });
    assert.equal(sumOf(perSecond, WAITING_PURPOSES), 7);
  });

  it("has redis-benchmark send exactly a first join's commands: the JOIN script's EVALSHA, HINCRBY and HSETNX", async () => {
    const redis = new Redis(testInfra().redisUrl);
    const watcher = new Redis(testInfra().redisUrl);
    const prefix = `test:bench-join:${randomUUID().slice(0, 8)}:`;
    try {
      const sha = (await redis.script('LOAD', JOIN)) as string;
      const args = joinBenchmarkArgs(sha, (name) => `${prefix}{e}:${name}`, 12345);
      // What redis-benchmark does with __rand_int__: a number in its -r range.
      const [command, ...rest] = args.map((a) => a.replace('__rand_int__', '000000000042'));
      const address = /addr=(\S+)/.exec(String(await redis.client('INFO')))![1];
      const monitor = await watcher.monitor();
      const seen: string[] = [];
      let ours = false;
      monitor.on('monitor', (_time: string, line: string[], source: string) => {
        if (source !== 'lua') ours = source === address;
        if (ours) seen.push(line[0]!.toLowerCase());
      });
      const answer = await redis.call(command!, ...rest);
      await redis.echo('done');
      await waitFor(async () => seen.includes('echo') || undefined, { what: 'the monitor to catch up' });
      monitor.disconnect();
      assert.deepEqual(answer, [1, 1, 2], 'a first join: number 1, and two commands inside');
      assert.deepEqual(seen, ['evalsha', 'hincrby', 'hsetnx', 'echo']);
      assert.equal(await redis.hget(`${prefix}{e}:tickets`, 'user:000000000042'), '1|12345');
    } finally {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      watcher.disconnect();
    }
  });

  it("a waiting crowd's cost is the waiting purposes over the window, less what they ran at before it came, over the fans waiting on average", () => {
    const cost = waitingCostOf(
      {
        // 10 s: joins and the operator's changes are not the waiting crowd's.
        before: { join: 0, presence: 100, place: 0, tick: 1000, status: 5, control: 0 },
        after: { join: 9000, presence: 180, place: 50, tick: 1700, status: 25, control: 70 },
        seconds: 10,
        fansAtStart: 4000,
        fansAtEnd: 3000,
      },
      // Another queue was being ticked before the crowd came: 40 a second; and a little noise in presence.
      { tick: 40, presence: 9 },
    );
    assert.deepEqual(cost.perSecond, { presence: 0, place: 5, tick: 30, status: 2 });
    assert.equal(cost.fans, 3500);
    assert.equal(cost.perWaitingFanSecond, 37 / 3500);
    assert.equal(cost.perQueueSecond, 37, 'the queue as a whole, whatever its crowd');
    assert.ok(
      Number.isNaN(
        waitingCostOf({ before: {}, after: {}, seconds: 1, fansAtStart: 0, fansAtEnd: 0 }, {})
          .perWaitingFanSecond,
      ),
    );
  });

  it('commands per join are counted over every join of the runs, not averaged over runs', () => {
    const run = (joins: number, commands: number) => ({
      result: { label: '', requestsPerSecond: 1, total: joins, p50Ms: 0, p99Ms: 0, statuses: {}, errors: 0 },
      joins,
      commands,
    });
    assert.equal(commandsPerJoin([run(4000, 12_004), run(1000, 3001)]), 15_005 / 5000);
    assert.ok(Number.isNaN(commandsPerJoin([])));
  });

  it('reads the rate from redis-benchmark’s CSV, and asks it for the right server, database and credentials', () => {
    const csv =
      '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"\n' +
      '"EVALSHA abc 3 k:{e}:cfg k:{e}:tickets k:{e}:gaps user:__rand_int__ 1","21345.67","2.1","0.2","2.0","3.1","4.0","9.9"\n';
    assert.equal(benchmarkRate(csv), 21345.67);
    assert.throws(() => benchmarkRate('ERR unknown command\n'), /printed no rate/);
    const args = redisBenchmarkArgs('redis://:s%40cret@10.0.0.5:6380/2', ['GET', 'k'], {
      requests: 10,
      clients: 5,
    });
    assert.deepEqual(args, [
      ...['-h', '10.0.0.5', '-p', '6380', '-a', 's@cret', '--no-auth-warning', '--dbnum', '2'],
      ...['-n', '10', '-c', '5', '-r', '10000000', '--csv', 'GET', 'k'],
    ]);
    assert.deepEqual(
      redisBenchmarkArgs('redis://127.0.0.1', ['GET', 'k'], { requests: 1, clients: 1 }).slice(0, 4),
      ['-h', '127.0.0.1', '-p', '6379'],
    );
  });

  it('runs the JOIN script itself under redis-benchmark on the real server: every request a join that ran, and its keys gone after', async () => {
    const redis = new Redis(testInfra().redisUrl);
    try {
      const rates = await joinScriptBenchmark(redis, testInfra().redisUrl, { runs: 2, requests: 500 });
      assert.equal(rates.length, 2);
      assert.ok(
        rates.every((rate) => rate > 0),
        `${rates}`,
      );
      assert.equal((await redis.keys('bench:wr:{redis-benchmark-*')).length, 0);
    } finally {
      redis.disconnect();
    }
  });
});
