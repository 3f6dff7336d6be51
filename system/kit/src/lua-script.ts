import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export type LuaScript = (redis: Redis, numKeys: number, ...args: Array<string | number>) => Promise<unknown>;

/**
 * A Lua script sent by its SHA1 (EVALSHA), not its text: EVAL made Redis hash the whole script on every call and
 * put it on the wire each time. A server that does not know the script yet (first call, a restart, SCRIPT FLUSH)
 * answers NOSCRIPT; the text then goes once with EVAL, which also caches it.
 */
export function luaScript(body: string): LuaScript {
  const sha = createHash('sha1').update(body).digest('hex');
  return async (redis, numKeys, ...args) => {
    try {
      return await redis.evalsha(sha, numKeys, ...args);
    } catch (error) {
      if (!(error as Error).message?.startsWith('NOSCRIPT')) throw error;
      return redis.eval(body, numKeys, ...args);
    }
  };
}
