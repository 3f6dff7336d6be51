import {
  ForbiddenProblem,
  type Pool,
  type Principal,
  ProblemError,
  TooManyRequestsProblem,
  TtlCache,
} from '@reservex/kit';
import { admittedAtOfId } from '../domain/admission-record.ts';
import type { AdmissionTokens } from '../domain/admission-token.ts';
import { type Lottery, LotteryOrder, lotteryDraws, lotteryKey } from '../domain/queue-lottery.ts';
import {
  type FanQueueView,
  FRONT_WINDOW_SECONDS,
  fanQueueView,
  type QueueStatus,
} from '../domain/queue-status.ts';
import type { QueueTickets } from '../domain/queue-ticket.ts';
import {
  type AdmissionProgress,
  dueAfterMs,
  MAX_POLL_SECONDS,
  pollAfterSeconds,
  type QueueView,
  queueView,
} from '../domain/queue-view.ts';
import { AdmissionSpent, EventNotFound } from '../domain/ticket-errors.ts';
import {
  isSoldOut,
  type QueueChange,
  type QueueSettingsRow,
  queueSettingsOf,
  saveQueueChange,
} from '../store/queue-settings.ts';
import type { QueueStore } from '../store/queue-store.ts';
import type { RedisPurpose } from '../store/redis-commands.ts';

export class NoQueue extends ProblemError {
  constructor() {
    super(404, 'no-queue', 'No waiting room', 'This event sells without a waiting room');
  }
}

export interface WaitingRoomOptions {
  pool: Pool;
  store: QueueStore;
  ticker: AdmissionProgress;
  tokens: AdmissionTokens;
  tickets: QueueTickets;
  joinLimitPerUser: number;
  joinLimitPerIp: number;
  /** The longest an admission lasts, however present its user (the ticker frees it sooner once they go). */
  slotMs: number;
  /** The secret each event's lottery key is derived from (domain/queue-lottery.ts). */
  lotterySecret: string;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** The window the join limits count in (QUEUE_JOIN_LIMIT_PER_USER and _PER_IP are per minute, per event). */
const JOIN_WINDOW_MS = 60_000;

/** Whole seconds from now until `at`, between 1 and the longest poll interval. */
const secondsUntil = (at: number) =>
  Math.max(1, Math.min(MAX_POLL_SECONDS, Math.ceil((at - Date.now()) / 1000)));

/** A fan's own place, as the origin tells it to a fan near the front (GET …/queue/me, and the stream). */
export type FanStatus = QueueView & {
  /** Their place in line; null for the pre-queue before the opening. */
  place: number | null;
  /** When to ask again (the Retry-After header); the fan is due back then. */
  pollAfterSeconds: number;
  soldOut: boolean;
  admissionToken?: string;
  admissionExpiresAt?: string;
  admissionLapsesAt?: string;
};

/** What a join answers: the signed ticket the fan keeps, and where it puts them. */
export type Joined = FanQueueView & {
  queueTicket: string;
  /** The join number the ticket carries. */
  number: number;
  /** The number's draw in the pre-queue's lottery: with the shared status, the fan's own estimate of their place. */
  draw: number;
  soldOut: boolean;
};

export class QueueTicketRefused extends ProblemError {
  constructor(why: string) {
    super(403, 'queue-ticket-invalid', 'Queue ticket not valid', `The X-Queue-Ticket is ${why}: join again`);
  }
}

const ADMISSION_REFUSALS = {
  missing: 'This event sells through its waiting room: send the X-Admission-Token you were given',
  invalid: 'The admission token is not valid',
  expired: 'The admission token has expired; join the queue again',
  'wrong-user': 'The admission token belongs to someone else',
  'wrong-event': 'The admission token is for another event',
} as const;

/** Joining, waiting, being admitted, and the gate a reservation passes: the waiting room's use cases. */
export function waitingRoom(options: WaitingRoomOptions) {
  const { pool, store, ticker, tokens } = options;
  // What every read needs, kept per instance so it costs no query: the event's settings (a few seconds) and whether
  // it sold out (a second). A fan's place needs nothing: it is their signed ticket's number and the lottery.
  const settings = new TtlCache<string, QueueSettingsRow | undefined>({ ttlMs: 5000 });
  const soldOut = new TtlCache<string, boolean>({ ttlMs: 1000 });
  const waitObserved = new TtlCache<string, true>({ ttlMs: 3600_000 });
  const etaRates = new TtlCache<string, number>({ ttlMs: 1000 });
  const lotteries = new TtlCache<string, Lottery | undefined>({ ttlMs: 1000 });
  // Per event, for as long as a sale lasts: the draws' cipher (joins), and the sealed order (an instance that has
  // not ticked the queue itself).
  const draws = new TtlCache<string, ReturnType<typeof lotteryDraws>>({
    ttlMs: 6 * 3600_000,
    maxEntries: 1000,
  });
  const orders = new TtlCache<string, LotteryOrder>({ ttlMs: 6 * 3600_000, maxEntries: 100 });
  const drawOf = (eventId: string, number: number) => {
    let d = draws.peek(eventId);
    if (d === undefined) {
      d = lotteryDraws(lotteryKey(options.lotterySecret, eventId));
      draws.set(eventId, d);
    }
    return d.drawOf(number);
  };
  // Join limits per fan and per address, counted in this instance's memory: a join is then three Redis commands.
  // With several instances behind a balancer each counts its own share (an edge would limit per address first).
  const joinCounts = new TtlCache<string, { n: number; until: number }>({
    ttlMs: JOIN_WINDOW_MS,
    maxEntries: 2_000_000,
  });
  const overLimit = (key: string, limit: number): number => {
    const now = Date.now();
    const count = joinCounts.peek(key);
    const window = count === undefined || count.until <= now ? { n: 0, until: now + JOIN_WINDOW_MS } : count;
    window.n += 1;
    joinCounts.set(key, window);
    return window.n > limit ? window.until - now : 0;
  };

  async function queueSettings(eventId: string): Promise<QueueSettingsRow | undefined> {
    const cached = settings.peek(eventId);
    if (cached !== undefined) {
      // The ticker forgets idle queues; anyone touching one brings it back.
      if (cached.hasQueue) ticker.watch(eventId);
      return cached;
    }
    return settings.get(eventId, async () => {
      const event = await queueSettingsOf(pool, eventId);
      if (event?.hasQueue) {
        // Redis may have lost the queue since it was created; PostgreSQL holds its settings.
        if (!(await store.exists(eventId))) {
          await store.configure(eventId, {
            opensAt: event.opensAt!,
            salesOpenAt: event.salesOpenAt,
            admitPerSecond: event.admitPerSecond!,
            maxActive: event.maxActive!,
            paused: event.paused,
            closed: event.closed,
            admissionControl: event.admissionControl,
          });
        }
        ticker.watch(eventId);
      }
      return event;
    });
  }

  async function requireQueue(eventId: string): Promise<QueueSettingsRow> {
    const event = await queueSettings(eventId);
    if (event === undefined) throw new EventNotFound();
    if (!event.hasQueue) throw new NoQueue();
    return event;
  }

  // The reads below are shared by a join, a fan's own place and the shared status: each says which it serves, and
  // Redis commands are counted by that (waiting_room_redis_commands_total).
  async function served(eventId: string, purpose: RedisPurpose): Promise<number> {
    return ticker.progress(eventId)?.served ?? (await store.served(eventId, purpose));
  }

  /**
   * The rate a wait is estimated at. Until the first admissions are measured, the configured rate is the best
   * guess: without one, a whole stadium was told to ask again every 2 s at the opening. After that, the faster of
   * the measured rate and the admission controller's: while it ramps up the measured rate lags, and a fan far
   * back told to come back on the lagging figure would miss their turn by a minute.
   */
  async function etaRate(
    eventId: string,
    settings: QueueSettingsRow,
    purpose: RedisPurpose,
  ): Promise<number | undefined> {
    const measured = ticker.progress(eventId)?.rate;
    const admitting = settings.paused
      ? 0
      : await etaRates.get(eventId, () => store.etaRate(eventId, purpose));
    if (measured !== undefined && measured > 0) return Math.max(measured, admitting);
    return settings.paused ? undefined : (settings.admitPerSecond ?? undefined);
  }

  /** The poll hint, capped by the fastest admissions can go: the operator's ceiling, or faster if measured so. */
  const hint = (view: QueueView, settings: QueueSettingsRow, rate: number | undefined) =>
    pollAfterSeconds(view, Math.max(1, settings.admitPerSecond ?? 0, rate ?? 0));

  /** The pre-queue's lottery as sealed at the opening, from this instance's ticks (or Redis, before its first). */
  async function lotteryOf(eventId: string, purpose: RedisPurpose): Promise<Lottery | undefined> {
    return (
      ticker.progress(eventId)?.lottery ??
      (await lotteries.get(eventId, () => store.lottery(eventId, purpose)))
    );
  }

  /** Every pre-queue number's place, once sealed: from this instance's ticks, or worked out here once. */
  async function orderOf(eventId: string, purpose: RedisPurpose): Promise<LotteryOrder | undefined> {
    const ticked = ticker.progress(eventId)?.order;
    if (ticked !== undefined) return ticked;
    const lottery = await lotteryOf(eventId, purpose);
    if (lottery === undefined) return undefined;
    const known = orders.peek(eventId);
    if (known !== undefined && known.size === lottery.size) return known;
    const order = new LotteryOrder(lottery);
    orders.set(eventId, order);
    return order;
  }

  /** The event-wide status every waiting fan reads, the same for all: what the edge caches. A join's answer too. */
  async function sharedStatus(eventId: string, purpose: RedisPurpose): Promise<QueueStatus> {
    const settings = await requireQueue(eventId);
    const progress = ticker.progress(eventId);
    const rate = await etaRate(eventId, settings, purpose);
    const lottery = await lotteryOf(eventId, purpose);
    return {
      eventId,
      opensAt: settings.opensAt!.toISOString(),
      salesOpenAt: settings.salesOpenAt.toISOString(),
      lottery: lottery ?? null,
      served: progress?.served ?? (await store.served(eventId, purpose)),
      lastNumber: progress?.lastNumber ?? 0,
      etaPerSecond: rate === undefined ? null : round1(rate),
      fastestPerSecond: Math.max(1, settings.admitPerSecond ?? 0, rate ?? 0),
      paused: progress?.paused ?? settings.paused,
      closed: settings.closed,
      soldOut: await soldOut.get(eventId, () => isSoldOut(pool, eventId)),
      frontWindowSeconds: FRONT_WINDOW_SECONDS,
      // The time of the last admission step, not of this answer: two answers between steps are the same answer.
      at: new Date(progress?.at ?? 0).toISOString(),
    };
  }

  /**
   * A fan's own place: their join number from the signed ticket they show (or, for a client that keeps none, from
   * Redis), their place from the lottery, and, once their turn has come, their admission. Asking is a sign of life.
   */
  async function fanStatus(
    userId: string,
    eventId: string,
    number: number,
    joinedAt?: number,
  ): Promise<FanStatus> {
    const settings = await requireQueue(eventId);
    const place = (await orderOf(eventId, 'place'))?.placeOf(number) ?? null;
    const rate = await etaRate(eventId, settings, 'place');
    const current = await served(eventId, 'place');
    const gone = await soldOut.get(eventId, () => isSoldOut(pool, eventId));
    const key = `${eventId}/${userId}`;
    // A fan already told of their admission looks again to keep their slot while they book: that is inside's cost.
    const told = waitObserved.peek(key) !== undefined;
    const admission =
      place !== null && place <= current
        ? await store.admissionOf(eventId, userId, told ? 'inside' : 'place')
        : undefined;
    if (place === null || place > current || admission === undefined) {
      const view = queueView(place ?? 0, current, false, rate);
      // The pre-queue learns its places at the opening: asking before then tells nothing new.
      const pollAfter =
        place === null ? secondsUntil(settings.salesOpenAt.getTime()) : hint(view, settings, rate);
      // Seen now, and due again when told to come back: a long wait is not taken for leaving.
      ticker.seen(eventId, number, userId, dueAfterMs(pollAfter));
      return { ...view, place, pollAfterSeconds: pollAfter, soldOut: gone };
    }
    ticker.seen(eventId, number, userId);
    if (!told) {
      waitObserved.set(key, true);
      await store.acknowledge(eventId, userId);
      const joined = joinedAt ?? (await store.joinedOf(eventId, userId))?.joinedAt;
      if (joined !== undefined) ticker.observeWait(eventId, (Date.now() - joined) / 1000);
    }
    // The token lives as long as the admission could; Redis decides, on each use, whether it lapsed sooner.
    const endsAt = (await admittedAtOf(eventId, admission.tokenId)) + options.slotMs;
    const ttl = Math.max(1, Math.floor((endsAt - Date.now()) / 1000));
    return {
      ...queueView(place, current, true, rate),
      place,
      pollAfterSeconds: 1,
      soldOut: gone,
      admissionToken: tokens.sign({ userId, eventId, tokenId: admission.tokenId, number }, ttl),
      admissionExpiresAt: new Date(endsAt).toISOString(),
      admissionLapsesAt: new Date(admission.lapsesAt).toISOString(),
    };
  }

  /** When an admission was given: its id says so; an id from before it did, the admission log in Redis. */
  async function admittedAtOf(eventId: string, tokenId: string): Promise<number> {
    return admittedAtOfId(tokenId) ?? (await store.admittedAt(eventId, tokenId));
  }

  /** The join a fan holds: from their signed ticket, or from Redis for a client that shows none. */
  async function joinOf(
    principal: Principal,
    eventId: string,
    ticket: string | undefined,
  ): Promise<{ number: number; joinedAt?: number } | undefined> {
    if (ticket === undefined) return await store.joinedOf(eventId, principal.userId);
    const verdict = options.tickets.verify(ticket, principal.userId, eventId);
    if (typeof verdict === 'string') throw new QueueTicketRefused(verdict);
    return verdict;
  }

  return {
    sharedStatus: (eventId: string) => sharedStatus(eventId, 'status'),
    fanStatus,

    /** A new event's queue, written to Redis at creation so the first joins of a burst find it ready. */
    async open(eventId: string, queue: Parameters<QueueStore['configure']>[1]): Promise<void> {
      await store.configure(eventId, queue);
      ticker.watch(eventId);
    },

    /**
     * A place in line: a join number (three Redis commands: the settings, the opening and the limits are checked
     * here, from memory), signed into a ticket the fan keeps. Joining again from another tab gives the same place;
     * a fan whose turn is over gets a new one at the back.
     */
    async join(principal: Principal, eventId: string, ip: string): Promise<Joined & { fresh: boolean }> {
      const settings = await requireQueue(eventId);
      if (settings.opensAt !== null && Date.now() < settings.opensAt.getTime())
        throw new ProblemError(
          409,
          'queue-not-open',
          'Queue not open',
          'The waiting room has not opened yet',
        );
      if (settings.closed)
        throw new ProblemError(
          409,
          'queue-closed',
          'Queue closed',
          'The waiting room takes no new joins (draining)',
        );
      const waitMs = Math.max(
        overLimit(`${eventId}|u|${principal.userId}`, options.joinLimitPerUser),
        overLimit(`${eventId}|ip|${ip}`, options.joinLimitPerIp),
      );
      if (waitMs > 0)
        throw new TooManyRequestsProblem(waitMs / 1000, 'Too many queue joins; try again later');
      let joined = await store.join(eventId, principal.userId);
      if (!joined.fresh) {
        const place = (await orderOf(eventId, 'join'))?.placeOf(joined.number);
        // A turn that is over (passed without them, or admitted and lapsed): a new place at the back.
        if (
          place !== undefined &&
          place <= (await served(eventId, 'join')) &&
          (await store.admissionOf(eventId, principal.userId, 'join')) === undefined
        )
          joined = { ...(await store.rejoin(eventId, principal.userId)), fresh: true };
      }
      const status = await sharedStatus(eventId, 'join');
      const draw = drawOf(eventId, joined.number);
      const view = fanQueueView(status, { number: joined.number, draw });
      // A joiner is told when to look first, and is due then: in an opening's herd the first look can wait behind
      // thousands of joins, and a fan due at once was dropped as gone at their turn. A pre-queue fan is due at the
      // opening at the earliest: until the seal they only read the shared status, and the first places are
      // admitted within a second of it.
      const untilOpening = Math.ceil((settings.salesOpenAt.getTime() - Date.now()) / 1000);
      const dueIn =
        status.lottery === null ? Math.max(view.pollAfterSeconds, untilOpening) : view.pollAfterSeconds;
      ticker.seen(eventId, joined.number, principal.userId, dueAfterMs(dueIn));
      waitObserved.delete(`${eventId}/${principal.userId}`);
      return {
        ...view,
        queueTicket: options.tickets.sign({
          userId: principal.userId,
          eventId,
          number: joined.number,
          joinedAt: joined.joinedAt,
        }),
        number: joined.number,
        draw,
        soldOut: status.soldOut,
        fresh: joined.fresh,
      };
    },

    /**
     * Where the user stands, from the ticket they show; an admitted user also gets their admission token. Undefined
     * for a user with no place in this queue.
     */
    async status(principal: Principal, eventId: string, ticket: string | undefined) {
      await requireQueue(eventId);
      const joined = await joinOf(principal, eventId, ticket);
      return joined === undefined
        ? undefined
        : {
            number: joined.number,
            ...(await fanStatus(principal.userId, eventId, joined.number, joined.joinedAt)),
          };
    },

    /**
     * The reservation gate. Events without a waiting room pass. Otherwise the token must be signed by us, for this
     * user and this event, unexpired, and still the user's live admission in Redis (not spent, not lapsed). It
     * reads no database: the caller already has the event, and may be holding a connection.
     */
    async admit(
      principal: Principal,
      event: { id: string; queue?: unknown },
      token: string | undefined,
    ): Promise<{ tokenId: string } | undefined> {
      if (event.queue === undefined) return undefined;
      const verdict = tokens.verify(token, principal.userId, event.id);
      if (typeof verdict === 'string')
        throw new ForbiddenProblem(ADMISSION_REFUSALS[verdict], `admission-${verdict}`);
      // A reservation attempt is a sign of life too: it keeps the slot through a run of 409s.
      if (verdict.number !== undefined) ticker.seen(event.id, verdict.number, principal.userId);
      const live = await store.admissionOf(event.id, principal.userId, 'admission');
      if (live?.tokenId !== verdict.tokenId) throw new AdmissionSpent();
      return { tokenId: verdict.tokenId };
    },

    /** After a booking: the slot goes to the next fan now rather than when it lapses. */
    freeSlot(principal: Principal, eventId: string, tokenId: string): Promise<boolean> {
      return store.spendAdmission(eventId, principal.userId, tokenId);
    },

    async state(eventId: string) {
      await requireQueue(eventId);
      const [snapshot, control] = await Promise.all([store.snapshot(eventId), store.control(eventId)]);
      const rate = ticker.progress(eventId)?.rate;
      const last = control.last;
      return {
        ...snapshot,
        /** The controller's last step (docs/overload.md); null before its first. */
        admissionControlState:
          last === undefined
            ? null
            : {
                at: new Date(last.at).toISOString(),
                rate: round1(last.rate),
                throughput: round1(last.throughput),
                backlog: last.backlog,
                targetBacklog: Math.round(last.targetBacklog),
                targetSeconds: last.targetSeconds,
                oldestPendingSeconds: round1(last.oldestPendingMs / 1000),
                limitedBy: last.limitedBy,
              },
        waiting: Math.max(0, snapshot.lastTicket - snapshot.served),
        measuredAdmitPerSecond: rate === undefined ? null : round1(rate),
      };
    },

    async change(eventId: string, change: QueueChange) {
      await requireQueue(eventId);
      // PostgreSQL first: it is where the queue is rebuilt from if Redis loses its data.
      await saveQueueChange(pool, eventId, change);
      await store.update(eventId, { ...change, closed: change.drain });
      settings.delete(eventId);
    },
  };
}

export type WaitingRoom = ReturnType<typeof waitingRoom>;
