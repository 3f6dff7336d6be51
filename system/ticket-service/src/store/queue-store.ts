import { randomInt } from 'node:crypto';
import { type LuaScript, luaScript } from '@reservex/kit';
import type { Redis } from 'ioredis';
import { COLD_START_RATE, type ControlStep } from '../domain/admission-control.ts';
import { parseAdmissionRecord } from '../domain/admission-record.ts';
import type { Lottery, LotteryOrder } from '../domain/queue-lottery.ts';
import { HEARTBEAT, JOIN, REJOIN, SPEND_ADMISSION, TICK, TICK_KEYS } from './queue-scripts.ts';
import type { RedisCommandCounter, RedisPurpose } from './redis-commands.ts';

const scripts = {
  JOIN: luaScript(JOIN),
  REJOIN: luaScript(REJOIN),
  TICK: luaScript(TICK),
  HEARTBEAT: luaScript(HEARTBEAT),
  SPEND_ADMISSION: luaScript(SPEND_ADMISSION),
};

export interface QueueSettings {
  opensAt: Date;
  salesOpenAt: Date;
  admitPerSecond: number;
  maxActive: number;
  paused?: boolean;
  closed?: boolean;
  /** 'off' admits at the operator's rate as it stands; 'auto' (the default) lets the controller lower it. */
  admissionControl?: AdmissionControlMode;
}

export type AdmissionControlMode = 'auto' | 'off';

/** The controller's last step as kept in Redis: what it remembers, and what an admin is shown. */
export interface ControlRecord extends ControlStep {
  ceiling: number;
  oldestPendingMs: number;
}

export interface TickResult {
  admitted: number;
  served: number;
  dropped: number;
  active: number;
  /** The last join number handed out. */
  lastNumber: number;
  lapsed: number;
  now: number;
  /** The operator paused admissions. */
  paused: boolean;
  /** The pre-queue's lottery, once sealed at the opening. */
  lottery: Lottery | undefined;
}

/** A fan's join number, and when they joined (the join's clock; the checker reads it for arrival order). */
export interface Joined {
  number: number;
  joinedAt: number;
}

/** How many places ahead of the serving counter one admission step is given the join numbers of. */
export const TICK_LOOKAHEAD = 4096;

/** Lua's stack holds a few thousand arguments: heartbeats go in batches of this many fans. */
const HEARTBEAT_BATCH = 2000;

const joinedOf = (value: string): Joined => {
  const [number, joinedAt] = value.split('|');
  return { number: Number(number), joinedAt: Number(joinedAt ?? 0) };
};

// The controller at most doubles its rate per period: three periods ahead.
const RAMP_LOOKAHEAD = 8;

// A step's admission ids are its id and the place: random, so no two steps (of any instance) issue the same one.
const seed = () => randomInt(1, 2 ** 31 - 1);

/**
 * The Redis side of one ticket-service's waiting rooms. Every event's keys share a hash tag. Each command sent is
 * counted in `commands` by what it is for, once: a method whose caller's purpose varies is told it.
 */
export function queueStore(redis: Redis, prefix: string, commands: RedisCommandCounter) {
  const k = (eventId: string, name: string) => `${prefix}wr:{${eventId}}:${name}`;
  const keys = (eventId: string, ...names: string[]) => names.map((n) => k(eventId, n));
  const count = (purpose: RedisPurpose, n: number) => commands.inc({ purpose }, n);

  /**
   * A script's call, counted: its EVALSHA (and the EVAL after a NOSCRIPT) as each goes out, and the commands it ran
   * inside, which its answer ends with. The answer without that count.
   */
  async function run(
    purpose: RedisPurpose,
    script: LuaScript,
    keyNames: string[],
    ...args: Array<string | number>
  ): Promise<unknown[]> {
    const sent = script.counting(() => count(purpose, 1));
    const answer = (await sent(redis, keyNames.length, ...keyNames, ...args)) as unknown[];
    count(purpose, Number(answer.at(-1)));
    return answer.slice(0, -1);
  }

  return {
    key: k,

    /** Writes the queue's settings; safe to repeat (it never resets progress). */
    async configure(eventId: string, s: QueueSettings): Promise<void> {
      count('control', 2);
      await redis.hset(k(eventId, 'cfg'), {
        opensAt: s.opensAt.getTime(),
        salesOpenAt: s.salesOpenAt.getTime(),
        rate: s.admitPerSecond,
        maxActive: s.maxActive,
        paused: s.paused === true ? 1 : 0,
        closed: s.closed === true ? 1 : 0,
        control: s.admissionControl ?? 'auto',
      });
      // Until the controller's first step, a cold start: the opening's herd is not let in at the ceiling.
      if ((await redis.hsetnx(k(eventId, 'cfg'), 'ctlRate', COLD_START_RATE)) === 1) {
        count('control', 1);
        await redis.rpush(k(eventId, 'ctl-log'), `${Date.now()}|${COLD_START_RATE}`);
      }
    },

    async exists(eventId: string): Promise<boolean> {
      count('control', 1);
      return (await redis.exists(k(eventId, 'cfg'))) === 1;
    },

    async update(
      eventId: string,
      change: {
        admitPerSecond?: number;
        maxActive?: number;
        paused?: boolean;
        closed?: boolean;
        admissionControl?: AdmissionControlMode;
      },
    ) {
      const fields: Record<string, string | number> = {};
      if (change.admissionControl !== undefined) fields.control = change.admissionControl;
      if (change.admitPerSecond !== undefined) fields.rate = change.admitPerSecond;
      if (change.maxActive !== undefined) fields.maxActive = change.maxActive;
      if (change.paused !== undefined) fields.paused = change.paused ? 1 : 0;
      if (change.closed !== undefined) fields.closed = change.closed ? 1 : 0;
      if (Object.keys(fields).length === 0) return;
      count('control', 1);
      await redis.hset(k(eventId, 'cfg'), fields);
    },

    /**
     * A join number for the user, or the one they hold already (`fresh` false). Three Redis commands: what the
     * queue's settings, its opening and the join limits decide is the caller's, from memory.
     */
    async join(eventId: string, userId: string, at = Date.now()): Promise<Joined & { fresh: boolean }> {
      const [fresh, value] = (await run(
        'join',
        scripts.JOIN,
        keys(eventId, 'cfg', 'tickets', 'gaps'),
        userId,
        at,
      )) as [number, number | string];
      return fresh === 1
        ? { number: Number(value), joinedAt: at, fresh: true }
        : { ...joinedOf(String(value)), fresh: false };
    },

    /** A new number at the back, for a fan whose turn is over. */
    async rejoin(eventId: string, userId: string, at = Date.now()): Promise<Joined> {
      const [number] = (await run('join', scripts.REJOIN, keys(eventId, 'cfg', 'tickets'), userId, at)) as [
        number,
      ];
      return { number, joinedAt: at };
    },

    /**
     * One admission step. `order` and `served` are what this instance last learned: with them it hands the step
     * the join numbers standing at the next places of the pre-queue (the lottery's order), which Lua cannot draw.
     * `lotteryKey` is published with the seal, if this step makes it.
     */
    async tick(
      eventId: string,
      graceMs: number,
      slotMs: number,
      known: { order: LotteryOrder | undefined; served: number; lotteryKey: string },
    ): Promise<TickResult> {
      const base = known.served + 1;
      const numbers: number[] = [];
      if (known.order !== undefined)
        for (let place = base; place <= known.order.size && numbers.length < TICK_LOOKAHEAD; place++)
          numbers.push(known.order.numberAt(place));
      const r = await run(
        'tick',
        scripts.TICK,
        keys(eventId, ...TICK_KEYS),
        seed(),
        graceMs,
        slotMs,
        20_000,
        base,
        known.lotteryKey,
        ...numbers,
      );
      const [admitted, served, dropped, active, lastNumber, lapsed, now, paused, preSize, preSeed] = r as [
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        string,
      ];
      return {
        admitted,
        served,
        dropped,
        active,
        lastNumber,
        lapsed,
        now,
        paused: paused === 1,
        lottery: preSize >= 0 ? { size: preSize, key: preSeed } : undefined,
      };
    },

    /**
     * Every heartbeat an instance saw since its last step, whatever their number, in a few round trips of two
     * commands each: each join number with its fan and the milliseconds until they are next expected (0: at once).
     */
    async heartbeat(
      eventId: string,
      seen: ReadonlyMap<number, { userId: string; expectMs: number }>,
    ): Promise<void> {
      const all = [...seen];
      for (let i = 0; i < all.length; i += HEARTBEAT_BATCH) {
        const args = all
          .slice(i, i + HEARTBEAT_BATCH)
          .flatMap(([number, f]) => [number, Math.max(0, Math.round(f.expectMs)), f.userId]);
        await run('presence', scripts.HEARTBEAT, keys(eventId, 'seen', 'owners'), ...args);
      }
    },

    /** The join number the user holds, from Redis: for a fan who did not show their signed ticket. */
    async joinedOf(eventId: string, userId: string): Promise<Joined | undefined> {
      count('place', 1);
      const t = await redis.hget(k(eventId, 'tickets'), userId);
      return t === null ? undefined : joinedOf(t);
    },

    /** The user's live admission: its token id, and when it lapses unless they are seen. */
    async admissionOf(
      eventId: string,
      userId: string,
      purpose: RedisPurpose,
    ): Promise<{ tokenId: string; lapsesAt: number } | undefined> {
      count(purpose, 2);
      const [tokenId, lapsesAt] = await Promise.all([
        redis.hget(k(eventId, 'admitted'), userId),
        redis.zscore(k(eventId, 'active'), userId),
      ]);
      return tokenId === null || lapsesAt === null ? undefined : { tokenId, lapsesAt: Number(lapsesAt) };
    },

    /** When an admission was given, from the admission log. */
    async admittedAt(eventId: string, tokenId: string): Promise<number> {
      count('place', 1);
      const record = await redis.hget(k(eventId, 'issued'), tokenId);
      return (record === null ? undefined : parseAdmissionRecord(record)?.admittedAt) ?? 0;
    },

    async spendAdmission(eventId: string, userId: string, tokenId: string): Promise<boolean> {
      const [spent] = await run(
        'admission',
        scripts.SPEND_ADMISSION,
        keys(eventId, 'admitted', 'active', 'acked'),
        userId,
        tokenId,
      );
      return spent === 1;
    },

    /**
     * Takes the controller's turn for this period: with several instances, one steps each event's controller (the
     * lock lapses just before the next period, so a dead instance's turn passes on).
     */
    async claimControl(eventId: string, instance: string, periodMs: number): Promise<boolean> {
      count('control', 1);
      return (
        (await redis.set(k(eventId, 'ctl-lock'), instance, 'PX', Math.max(1, periodMs - 50), 'NX')) === 'OK'
      );
    },

    /**
     * The admission rate to give waiting fans their ETAs by: the operator's, or the controller's when lower and on.
     * The controller's rate swings (it stops admitting while a backlog drains), so the saga's throughput, what it
     * admits on average at saturation, is the floor. While it still has room to grow (a cold start, a backlog under
     * half its target) its rate may multiply within seconds, so the rate it would reach in three periods is used:
     * a fan far back is not told to come back a minute after their turn.
     */
    async etaRate(eventId: string, purpose: RedisPurpose): Promise<number> {
      count(purpose, 1);
      const [rate, ctlRate, control, ramping, throughput] = await redis.hmget(
        k(eventId, 'cfg'),
        'rate',
        'ctlRate',
        'control',
        'ctlRamping',
        'ctlThroughput',
      );
      const ceiling = Number(rate ?? 0);
      if (control === 'off' || ctlRate === null) return ceiling;
      const admitting = Math.max(Number(ctlRate), Number(throughput ?? 0));
      return Math.min(ceiling, admitting * (ramping === '0' ? 1 : RAMP_LOOKAHEAD));
    },

    /** The controller's last step, and whether it is switched on. */
    async control(eventId: string): Promise<{
      mode: AdmissionControlMode;
      ceiling: number;
      running: boolean;
      /** Admitted fans who know it and have not booked yet. */
      acknowledged: number;
      last?: ControlRecord;
    }> {
      count('control', 4);
      const [[mode, rate, paused, salesOpenAt], fields, [seconds], acknowledged] = await Promise.all([
        redis.hmget(k(eventId, 'cfg'), 'control', 'rate', 'paused', 'salesOpenAt'),
        redis.hgetall(k(eventId, 'ctl')),
        redis.time(),
        redis.zcard(k(eventId, 'acked')),
      ]);
      const last =
        fields.at === undefined
          ? undefined
          : {
              at: Number(fields.at),
              finished: Number(fields.finished),
              throughput: Number(fields.throughput),
              rate: Number(fields.rate),
              backlog: Number(fields.backlog),
              targetBacklog: Number(fields.targetBacklog),
              targetSeconds: Number(fields.targetSeconds),
              limitedBy: fields.limitedBy as ControlRecord['limitedBy'],
              ceiling: Number(fields.ceiling),
              oldestPendingMs: Number(fields.oldestPendingMs),
            };
      return {
        mode: mode === 'off' ? 'off' : 'auto',
        ceiling: Number(rate ?? 0),
        acknowledged,
        // By Redis's clock, the one the admission script reads: sales open, and not paused.
        running: salesOpenAt !== null && Number(seconds) * 1000 >= Number(salesOpenAt) && paused !== '1',
        last,
      };
    },

    /**
     * Records a step, and hands its rate to the admission script in the same transaction. Each step's instant and
     * rate go to a log too (`ctl-log`, the last 100,000): the checker holds the admissions to it.
     */
    async saveControl(eventId: string, step: ControlRecord): Promise<void> {
      // MULTI, four commands, EXEC.
      count('control', 6);
      await redis
        .multi()
        .hset(k(eventId, 'ctl'), { ...step })
        .rpush(k(eventId, 'ctl-log'), `${step.at}|${step.rate}`)
        .ltrim(k(eventId, 'ctl-log'), -100_000, -1)
        .hset(k(eventId, 'cfg'), {
          ctlRate: step.rate,
          ctlThroughput: step.throughput,
          ctlRamping: step.backlog < step.targetBacklog / 2 ? 1 : 0,
        })
        .exec();
    },

    /**
     * An admitted fan who has learned of it (their first poll or stream update since): about to book. Until they
     * book or their slot lapses they count in the admission controller's backlog; an admitted fan who has not
     * looked yet is not load (docs/overload.md).
     */
    async acknowledge(eventId: string, userId: string): Promise<void> {
      count('place', 1);
      await redis.zadd(k(eventId, 'acked'), 'NX', Date.now(), userId);
    },

    /** The pre-queue's lottery, once the opening sealed it. */
    async lottery(eventId: string, purpose: RedisPurpose): Promise<Lottery | undefined> {
      count(purpose, 1);
      const [size, key] = await redis.hmget(k(eventId, 'cfg'), 'preSize', 'preSeed');
      return size === null || size === undefined || key === null || key === undefined
        ? undefined
        : { size: Number(size), key };
    },

    async served(eventId: string, purpose: RedisPurpose): Promise<number> {
      count(purpose, 1);
      return Number((await redis.hget(k(eventId, 'cfg'), 'served')) ?? 0);
    },

    async snapshot(eventId: string) {
      count('control', 3);
      const [cfg, active, stats] = await Promise.all([
        redis.hgetall(k(eventId, 'cfg')),
        redis.zcard(k(eventId, 'active')),
        redis.hgetall(k(eventId, 'stats')),
      ]);
      // Before the opening everyone who joined is in the pre-queue.
      const pre = cfg.preSize === undefined ? Number(cfg.seq ?? 0) : 0;
      return {
        admitPerSecond: Number(cfg.rate ?? 0),
        maxActive: Number(cfg.maxActive ?? 0),
        paused: cfg.paused === '1',
        closed: cfg.closed === '1',
        admissionControl: (cfg.control === 'off' ? 'off' : 'auto') as AdmissionControlMode,
        /** The rate the admission script uses: the controller's, under the operator's ceiling. */
        effectiveAdmitPerSecond:
          cfg.control === 'off' || cfg.ctlRate === undefined
            ? Number(cfg.rate ?? 0)
            : Math.min(Number(cfg.rate ?? 0), Number(cfg.ctlRate)),
        served: Number(cfg.served ?? 0),
        lastTicket: Number(cfg.seq ?? 0),
        preQueue: pre,
        active,
        admittedTotal: Number(stats.admitted ?? 0),
        droppedTotal: Number(stats.dropped ?? 0),
      };
    },
  };
}

export type QueueStore = ReturnType<typeof queueStore>;
