import {
  ForbiddenProblem,
  type Pool,
  type Principal,
  ProblemError,
  TooManyRequestsProblem,
  TtlCache,
} from '@reservex/kit';
import type { AdmissionTokens } from '../domain/admission-token.ts';
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
  joinLimitPerUser: number;
  joinLimitPerIp: number;
  /** The longest an admission lasts, however present its user (the ticker frees it sooner once they go). */
  slotMs: number;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** The window the join limits count in (QUEUE_JOIN_LIMIT_PER_USER and _PER_IP are per minute, per event). */
const JOIN_WINDOW_MS = 60_000;

/** Whole seconds from now until `at`, between 1 and the longest poll interval. */
const secondsUntil = (at: number) =>
  Math.max(1, Math.min(MAX_POLL_SECONDS, Math.ceil((at - Date.now()) / 1000)));

export type QueueStatus = QueueView & {
  /** When to ask again (the Retry-After header); the fan is due back then. */
  pollAfterSeconds: number;
  soldOut: boolean;
  admissionToken?: string;
  admissionExpiresAt?: string;
  admissionLapsesAt?: string;
};

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
  // What every poll needs, kept per instance so a poll costs no query: the event's settings (a few seconds),
  // whether it sold out (a second), and each fan's ticket (while its turn lasts: real tickets never change).
  const settings = new TtlCache<string, QueueSettingsRow | undefined>({ ttlMs: 5000 });
  const soldOut = new TtlCache<string, boolean>({ ttlMs: 1000 });
  const tickets = new TtlCache<string, number>({ ttlMs: Number.POSITIVE_INFINITY, maxEntries: 1_000_000 });
  const waitObserved = new TtlCache<string, true>({ ttlMs: 3600_000 });
  const etaRates = new TtlCache<string, number>({ ttlMs: 1000 });

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

  /**
   * The pre-queue's 0 and a dropped fan's negative number are never cached: both change (at the shuffle, or on a
   * new join). `fresh` rereads a cached ticket whose turn is over, in case its fan joined again elsewhere.
   */
  async function ticketOf(eventId: string, userId: string, fresh = false): Promise<number | undefined> {
    const key = `${eventId}/${userId}`;
    const known = tickets.peek(key);
    if (known !== undefined && !fresh) return known;
    const ticket = await store.ticketOf(eventId, userId);
    if (ticket !== undefined && ticket > 0) tickets.set(key, ticket);
    else tickets.delete(key);
    return ticket;
  }

  async function served(eventId: string): Promise<number> {
    return ticker.progress(eventId)?.served ?? (await store.served(eventId));
  }

  /**
   * The rate a wait is estimated at. Until the first admissions are measured, the configured rate is the best
   * guess: without one, a whole stadium was told to ask again every 2 s at the opening. After that, the faster of
   * the measured rate and the admission controller's: while it ramps up the measured rate lags, and a fan far
   * back told to come back on the lagging figure would miss their turn by a minute.
   */
  async function etaRate(eventId: string, settings: QueueSettingsRow): Promise<number | undefined> {
    const measured = ticker.progress(eventId)?.rate;
    const admitting = settings.paused ? 0 : await etaRates.get(eventId, () => store.etaRate(eventId));
    if (measured !== undefined && measured > 0) return Math.max(measured, admitting);
    return settings.paused ? undefined : (settings.admitPerSecond ?? undefined);
  }

  /** The poll hint, capped by the fastest admissions can go: the operator's ceiling, or faster if measured so. */
  const hint = (view: QueueView, settings: QueueSettingsRow, rate: number | undefined) =>
    pollAfterSeconds(view, Math.max(1, settings.admitPerSecond ?? 0, rate ?? 0));

  async function statusOf(userId: string, eventId: string): Promise<QueueStatus | undefined> {
    const settings = await requireQueue(eventId);
    let ticket = await ticketOf(eventId, userId);
    if (ticket === undefined) return undefined;
    const rate = await etaRate(eventId, settings);
    const current = await served(eventId);
    const gone = await soldOut.get(eventId, () => isSoldOut(pool, eventId));
    const admission = ticket > 0 && ticket <= current ? await store.admissionOf(eventId, userId) : undefined;
    if (ticket > 0 && ticket <= current && admission === undefined) {
      // A turn that is over on this instance's record: the fan may have joined again elsewhere since.
      ticket = (await ticketOf(eventId, userId, true)) ?? ticket;
    }
    if (ticket <= 0 || ticket > current || admission === undefined) {
      const view = queueView(ticket, current, false, rate);
      // The pre-queue learns its places at the opening: asking before then tells nothing new.
      const pollAfter =
        ticket === 0 ? secondsUntil(settings.salesOpenAt.getTime()) : hint(view, settings, rate);
      // Seen now, and due again when told to come back: a long wait far back is not taken for leaving.
      ticker.seen(eventId, userId, dueAfterMs(pollAfter));
      return { ...view, pollAfterSeconds: pollAfter, soldOut: gone };
    }
    ticker.seen(eventId, userId);
    const key = `${eventId}/${userId}`;
    if (waitObserved.peek(key) === undefined) {
      waitObserved.set(key, true);
      await store.acknowledge(eventId, userId);
      const joined = await store.joinedAt(eventId, userId);
      if (joined !== undefined) ticker.observeWait(eventId, (Date.now() - joined) / 1000);
    }
    // The token lives as long as the admission could; Redis decides, on each use, whether it lapsed sooner.
    const endsAt = (await store.admittedAt(eventId, admission.tokenId)) + options.slotMs;
    const ttl = Math.max(1, Math.floor((endsAt - Date.now()) / 1000));
    return {
      ...queueView(ticket, current, true, rate),
      pollAfterSeconds: 1,
      soldOut: gone,
      admissionToken: await tokens.sign({ userId, eventId, tokenId: admission.tokenId }, ttl),
      admissionExpiresAt: new Date(endsAt).toISOString(),
      admissionLapsesAt: new Date(admission.lapsesAt).toISOString(),
    };
  }

  return {
    ticketOf,
    statusOf,

    /** A new event's queue, written to Redis at creation so the first joins of a burst find it ready. */
    async open(eventId: string, queue: Parameters<QueueStore['configure']>[1]): Promise<void> {
      await store.configure(eventId, queue);
      ticker.watch(eventId);
    },

    async join(
      principal: Principal,
      eventId: string,
      ip: string,
    ): Promise<QueueView & { ticket: number | null; pollAfterSeconds: number }> {
      const settings = await requireQueue(eventId);
      const result = await store.join(eventId, principal.userId, {
        ip,
        perUser: options.joinLimitPerUser,
        perIp: options.joinLimitPerIp,
        windowMs: JOIN_WINDOW_MS,
      });
      switch (result.kind) {
        case 'too-many':
          throw new TooManyRequestsProblem(result.waitMs / 1000, 'Too many queue joins; try again later');
        case 'not-open':
          throw new ProblemError(
            409,
            'queue-not-open',
            'Queue not open',
            'The waiting room has not opened yet',
          );
        case 'closed':
          throw new ProblemError(
            409,
            'queue-closed',
            'Queue closed',
            'The waiting room takes no new joins (draining)',
          );
        case 'no-queue':
          throw new NoQueue();
        case 'pre-queue': {
          const pollAfter = secondsUntil(settings.salesOpenAt.getTime());
          ticker.seen(eventId, principal.userId, dueAfterMs(pollAfter));
          return {
            state: 'waiting',
            position: null,
            etaSeconds: null,
            ticket: null,
            pollAfterSeconds: pollAfter,
          };
        }
        default: {
          const key = `${eventId}/${principal.userId}`;
          tickets.set(key, result.ticket);
          waitObserved.delete(key);
          const rate = await etaRate(eventId, settings);
          const view = queueView(result.ticket, await served(eventId), false, rate);
          // A joiner is told when to ask first, and is due then, as a poller is: in an opening's herd the first
          // poll can wait behind thousands of joins, and a fan due at once was dropped as gone at their turn.
          const pollAfter = hint(view, settings, rate);
          ticker.seen(eventId, principal.userId, dueAfterMs(pollAfter));
          return { ...view, ticket: result.ticket, pollAfterSeconds: pollAfter };
        }
      }
    },

    /** Where the user stands; an admitted user also gets their admission token. */
    status: (principal: Principal, eventId: string) => statusOf(principal.userId, eventId),

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
      const verdict = await tokens.verify(token, principal.userId, event.id);
      if (typeof verdict === 'string')
        throw new ForbiddenProblem(ADMISSION_REFUSALS[verdict], `admission-${verdict}`);
      // A reservation attempt is a sign of life too: it keeps the slot through a run of 409s.
      ticker.seen(event.id, principal.userId);
      const live = await store.admissionOf(event.id, principal.userId);
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
        waiting: Math.max(0, snapshot.lastTicket - snapshot.served) + snapshot.preQueue,
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
