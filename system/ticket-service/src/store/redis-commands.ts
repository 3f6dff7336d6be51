import { Counter, type Registry } from 'prom-client';

/**
 * What a Redis command of the waiting room is for (waiting_room_redis_commands_total{purpose}): the question of issue
 * 30 is what a waiting fan costs Redis each second, and a join, so each is counted where it is sent (the store), the
 * commands a script runs inside included.
 */
export const REDIS_PURPOSES = [
  /** A join: JOIN or REJOIN, and the reads its answer needs. */
  'join',
  /** The batched heartbeats: who is still there. */
  'presence',
  /** A fan's own place and admission (GET …/queue/me, a stream's update), up to the answer that admits them. */
  'place',
  /**
   * An admitted fan's later looks, which keep their slot while they book (the page's "I am here" between tries):
   * what a fan inside costs, with the admissions, not what one in the line does.
   */
  'inside',
  /** The admission step, and the admissions it makes. */
  'tick',
  /** The admission gate of a booking: checking and spending the token. */
  'admission',
  /** The shared status every waiting fan reads (GET …/queue/status). */
  'status',
  /** The queue's settings, their operators' view and changes, and the admission controller. */
  'control',
] as const;

export type RedisPurpose = (typeof REDIS_PURPOSES)[number];

export type RedisCommandCounter = Counter<'purpose'>;

export function redisCommandCounter(registry: Registry): RedisCommandCounter {
  const counter = new Counter({
    name: 'waiting_room_redis_commands_total',
    help: 'Redis commands the waiting room sent, by purpose: each script call and each command it ran inside',
    labelNames: ['purpose'] as const,
    registers: [registry],
  });
  // Every purpose from zero: a series that appears only at its first command loses that first increase to rate().
  for (const purpose of REDIS_PURPOSES) counter.inc({ purpose }, 0);
  return counter;
}
