import type { Redis } from 'ioredis';

// Fixed-window counters. One script, so incrementing both counters and reading their TTLs is atomic:
// a burst of parallel attempts cannot all read "under the limit" before any of them counts.
const COUNT_ATTEMPT = `
local results = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
  local ttl = redis.call('PTTL', key)
  results[#results + 1] = count
  results[#results + 1] = ttl
end
return results
`;

export interface AttemptCounts {
  perAccount: { count: number; resetMs: number };
  perIp: { count: number; resetMs: number };
}

export function loginThrottle(redis: Redis, prefix: string, windowSeconds: number) {
  return {
    async countAttempt(email: string, ip: string): Promise<AttemptCounts> {
      const result = (await redis.eval(
        COUNT_ATTEMPT,
        2,
        `${prefix}login:account:${email}`,
        `${prefix}login:ip:${ip}`,
        String(windowSeconds * 1000),
      )) as number[];
      const [accountCount, accountTtl, ipCount, ipTtl] = result as [number, number, number, number];
      return {
        perAccount: { count: accountCount, resetMs: accountTtl },
        perIp: { count: ipCount, resetMs: ipTtl },
      };
    },
  };
}

export type LoginThrottle = ReturnType<typeof loginThrottle>;
