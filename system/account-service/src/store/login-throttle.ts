import { fixedWindowCounter, type WindowCount } from '@reservex/kit';
import type { Redis } from 'ioredis';

export interface LoginCounts {
  /** Attempts on this account from this address. */
  pair: WindowCount;
  perIp: WindowCount;
  /** Attempts on this account from every address. */
  perAccount: WindowCount;
  /** Whether this address has signed in to this account before: a distributed attack cannot lock it out. */
  knownAddress: boolean;
}

const KNOWN_ADDRESS_DAYS = 30;

/** Counters in Redis, so every instance shares them. Each call counts one attempt. */
export function loginThrottle(
  redis: Redis,
  prefix: string,
  loginWindowSeconds: number,
  signupWindowSeconds: number,
) {
  const countLogin = fixedWindowCounter(redis, loginWindowSeconds);
  const countSignup = fixedWindowCounter(redis, signupWindowSeconds);
  const known = (email: string) => `${prefix}login:known:${email}`;
  return {
    async countLogin(email: string, ip: string): Promise<LoginCounts> {
      const [[pair, perIp, perAccount], knownAddress] = await Promise.all([
        countLogin(
          `${prefix}login:pair:${email}|${ip}`,
          `${prefix}login:ip:${ip}`,
          `${prefix}login:account:${email}`,
        ),
        redis.sismember(known(email), ip),
      ]);
      return { pair: pair!, perIp: perIp!, perAccount: perAccount!, knownAddress: knownAddress === 1 };
    },

    async rememberAddress(email: string, ip: string): Promise<void> {
      await redis
        .multi()
        .sadd(known(email), ip)
        .expire(known(email), KNOWN_ADDRESS_DAYS * 86_400)
        .exec();
    },

    async countSignup(ip: string): Promise<WindowCount> {
      const [count] = await countSignup(`${prefix}signup:ip:${ip}`);
      return count!;
    },
  };
}

export type LoginThrottle = ReturnType<typeof loginThrottle>;
