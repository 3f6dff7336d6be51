import { fixedWindowCounter } from '@reservex/kit';
import type { Redis } from 'ioredis';

export interface AttemptCounts {
  perAccount: { count: number; resetMs: number };
  perIp: { count: number; resetMs: number };
}

export function loginThrottle(redis: Redis, prefix: string, windowSeconds: number) {
  const count = fixedWindowCounter(redis, windowSeconds);
  return {
    async countAttempt(email: string, ip: string): Promise<AttemptCounts> {
      const [perAccount, perIp] = await count(`${prefix}login:account:${email}`, `${prefix}login:ip:${ip}`);
      return { perAccount: perAccount!, perIp: perIp! };
    },
  };
}

export type LoginThrottle = ReturnType<typeof loginThrottle>;
