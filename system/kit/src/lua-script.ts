import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

type Run = (redis: Redis, numKeys: number, ...args: Array<string | number>) => Promise<unknown>;

export interface LuaScript extends Run {
  /**
   * The same call, telling `sent` of each command it puts on the wire: the EVALSHA, and the EVAL after a NOSCRIPT.
   * Told as each goes out, so a command that fails counts too. The commands the script runs inside are for the
   * script itself to tell.
   */
  counting(sent: () => void): Run;
}

/**
 * A Lua script sent by its SHA1 (EVALSHA), not its text: EVAL made Redis hash the whole script on every call and
 * put it on the wire each time. A server that does not know the script yet (first call, a restart, SCRIPT FLUSH)
 * answers NOSCRIPT; the text then goes once with EVAL, which also caches it.
 */
export function luaScript(body: string): LuaScript {
  const sha = createHash('sha1').update(body).digest('hex');
  const counting =
    (sent: () => void): Run =>
    async (redis, numKeys, ...args) => {
      try {
        sent();
        return await redis.evalsha(sha, numKeys, ...args);
      } catch (error) {
        if (!(error as Error).message?.startsWith('NOSCRIPT')) throw error;
        sent();
        return redis.eval(body, numKeys, ...args);
      }
    };
  const nothing = () => {};
  return Object.assign(counting(nothing), { counting });
}
