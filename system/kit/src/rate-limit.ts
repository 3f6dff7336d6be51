import type { Redis } from 'ioredis';
import { luaScript } from './lua-script.ts';

// Fixed-window counters in one script, so counting several keys and reading their TTLs is atomic: a burst of
// parallel requests cannot all read "under the limit" before any of them counts.
const COUNT = luaScript(`
local results = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
  results[#results + 1] = count
  results[#results + 1] = redis.call('PTTL', key)
end
return results
`);

export interface WindowCount {
  count: number;
  resetMs: number;
}

/** Counts one hit against each key in a window of `windowSeconds`; returns each key's count and time to reset. */
export function fixedWindowCounter(redis: Redis, windowSeconds: number) {
  return async (...keys: string[]): Promise<WindowCount[]> => {
    const flat = (await COUNT(redis, keys.length, ...keys, String(windowSeconds * 1000))) as number[];
    const out: WindowCount[] = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ count: flat[i]!, resetMs: flat[i + 1]! });
    return out;
  };
}

/** The longest wait among the counts over their limits, or 0 when none is over. */
export function overLimitWaitMs(counts: Array<{ count: number; resetMs: number; limit: number }>): number {
  return Math.max(0, ...counts.filter((c) => c.count > c.limit).map((c) => c.resetMs));
}
