import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { luaScript } from '../src/index.ts';
import { testInfra, waitFor } from '../src/testing/index.ts';

describe('a Lua script sent by its SHA1', () => {
  it('tells each command it sends: the EVALSHA a server without the script refuses, the EVAL after it, then EVALSHA alone', async () => {
    const redis = new Redis(testInfra().redisUrl);
    const watcher = new Redis(testInfra().redisUrl);
    // A body no server has seen: the first call meets NOSCRIPT.
    const script = luaScript(`return ARGV[1] -- ${randomUUID()}`);
    const marker = randomUUID();
    try {
      const address = /addr=(\S+)/.exec(String(await redis.client('INFO')))![1];
      const monitor = await watcher.monitor();
      const seen: string[] = [];
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (source === address) seen.push(args[0]!.toLowerCase());
      });
      let sent = 0;
      const counted = script.counting(() => sent++);
      assert.equal(await counted(redis, 0, 'first'), 'first');
      assert.equal(sent, 2);
      assert.equal(await counted(redis, 0, 'again'), 'again');
      assert.equal(sent, 3);
      await redis.echo(marker);
      await waitFor(async () => seen.includes('echo') || undefined, { what: 'the monitor to catch up' });
      assert.deepEqual(seen, ['evalsha', 'eval', 'evalsha', 'echo'], 'what Redis saw');
      monitor.disconnect();
    } finally {
      redis.disconnect();
      watcher.disconnect();
    }
  });
});
