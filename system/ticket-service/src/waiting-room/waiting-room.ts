import type { WindowCount } from '@reservex/kit';
import {
  ForbiddenProblem,
  overLimitWaitMs,
  type Pool,
  type Principal,
  ProblemError,
  TooManyRequestsProblem,
} from '@reservex/kit';
import { type QueueView, queueView } from '../domain/queue-view.ts';
import { AdmissionSpent, EventNotFound } from '../domain/ticket-errors.ts';
import type { AdmissionTicker } from './admission-ticker.ts';
import type { AdmissionTokens } from './admission-token.ts';
import type { QueueStore } from './queue-store.ts';

export class NoQueue extends ProblemError {
  constructor() {
    super(404, 'no-queue', 'No waiting room', 'This event sells without a waiting room');
  }
}

export interface WaitingRoomOptions {
  pool: Pool;
  store: QueueStore;
  ticker: AdmissionTicker;
  tokens: AdmissionTokens;
  countJoin: (...keys: string[]) => Promise<WindowCount[]>;
  joinLimitPerUser: number;
  joinLimitPerIp: number;
  /** The longest an admission lasts, however present its user (the ticker frees it sooner once they go). */
  slotMs: number;
}

interface QueueEvent {
  hasQueue: boolean;
  opensAt: Date | null;
  salesOpenAt: Date;
  admitPerSecond: number | null;
  maxActive: number | null;
  paused: boolean;
  closed: boolean;
}

export function waitingRoom(o: WaitingRoomOptions) {
  const { store, ticker, tokens } = o;
  // Tickets never change once given, so each instance remembers the ones it has seen: a poll costs no Redis call.
  const tickets = new Map<string, number>();
  const waitObserved = new Set<string>();
  const events = new Map<string, { at: number; event: QueueEvent | undefined }>();
  const soldOut = new Map<string, { at: number; value: boolean }>();

  /** Every seat SOLD (none available, none merely held): at most one query per event per second. */
  async function isSoldOut(eventId: string): Promise<boolean> {
    const cached = soldOut.get(eventId);
    if (cached !== undefined && Date.now() - cached.at < 1000) return cached.value;
    const { rows } = await o.pool.query(
      "SELECT NOT EXISTS (SELECT 1 FROM seats WHERE event_id = $1 AND status <> 'SOLD') AS sold_out",
      [eventId],
    );
    const value = rows[0]?.sold_out === true;
    soldOut.set(eventId, { at: Date.now(), value });
    return value;
  }

  async function queueEvent(eventId: string): Promise<QueueEvent | undefined> {
    const cached = events.get(eventId);
    if (cached !== undefined && Date.now() - cached.at < 5000) {
      // The ticker forgets idle queues; anyone touching one brings it back.
      if (cached.event?.hasQueue) ticker.watch(eventId);
      return cached.event;
    }
    const { rows } = await o.pool.query(
      'SELECT queue_opens_at, sales_open_at, admit_per_second, max_active, queue_paused, queue_closed FROM events WHERE id = $1',
      [eventId],
    );
    const r = rows[0];
    const event =
      r === undefined
        ? undefined
        : {
            hasQueue: r.queue_opens_at !== null,
            opensAt: r.queue_opens_at,
            salesOpenAt: r.sales_open_at,
            admitPerSecond: r.admit_per_second,
            maxActive: r.max_active,
            paused: r.queue_paused,
            closed: r.queue_closed,
          };
    events.set(eventId, { at: Date.now(), event });
    if (event?.hasQueue) {
      // Redis may have been reset since the event was created; the settings live in PostgreSQL.
      if (!(await store.exists(eventId))) {
        await store.configure(eventId, {
          opensAt: event.opensAt!,
          salesOpenAt: event.salesOpenAt,
          admitPerSecond: event.admitPerSecond!,
          maxActive: event.maxActive!,
          paused: event.paused,
          closed: event.closed,
        });
      }
      ticker.watch(eventId);
    }
    return event;
  }

  async function requireQueue(eventId: string): Promise<QueueEvent> {
    const event = await queueEvent(eventId);
    if (event === undefined) throw new EventNotFound();
    if (!event.hasQueue) throw new NoQueue();
    return event;
  }

  /**
   * Real tickets (> 0) never change while their turn lasts, so they are cached per instance. The pre-queue's 0 and
   * a dropped fan's negative number are never cached: both change (at the shuffle, or on a new join), and `fresh`
   * rereads a cached ticket whose turn is over, in case its fan has joined again through another instance.
   */
  async function ticketOf(eventId: string, userId: string, fresh = false): Promise<number | undefined> {
    const key = `${eventId}/${userId}`;
    const known = tickets.get(key);
    if (known !== undefined && !fresh) return known;
    const ticket = await store.ticketOf(eventId, userId);
    if (ticket !== undefined && ticket > 0) tickets.set(key, ticket);
    else tickets.delete(key);
    return ticket;
  }

  async function served(eventId: string): Promise<number> {
    return ticker.progress(eventId)?.served ?? (await store.served(eventId));
  }

  return {
    queueEvent,
    ticketOf,

    async join(
      principal: Principal,
      eventId: string,
      ip: string,
    ): Promise<QueueView & { ticket: number | null }> {
      await requireQueue(eventId);
      const [perUser, perIp] = await o.countJoin(
        `queue-join:user:${principal.userId}`,
        `queue-join:ip:${ip}`,
      );
      const wait = overLimitWaitMs([
        { ...perUser!, limit: o.joinLimitPerUser },
        { ...perIp!, limit: o.joinLimitPerIp },
      ]);
      if (wait > 0) throw new TooManyRequestsProblem(wait / 1000, 'Too many queue joins; try again later');
      const result = await store.join(eventId, principal.userId);
      switch (result.kind) {
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
        case 'pre-queue':
          return { state: 'waiting', position: null, etaSeconds: null, ticket: null };
        default: {
          tickets.set(`${eventId}/${principal.userId}`, result.ticket);
          waitObserved.delete(`${eventId}/${principal.userId}`);
          const progress = ticker.progress(eventId);
          return {
            ...queueView(result.ticket, await served(eventId), false, progress?.rate),
            ticket: result.ticket,
          };
        }
      }
    },

    /** Where the user stands; an admitted user also gets their admission token. */
    async status(
      principal: Principal,
      eventId: string,
    ): Promise<
      | (QueueView & {
          soldOut: boolean;
          admissionToken?: string;
          admissionExpiresAt?: string;
          admissionLapsesAt?: string;
        })
      | undefined
    > {
      await requireQueue(eventId);
      let ticket = await ticketOf(eventId, principal.userId);
      if (ticket === undefined) return undefined;
      ticker.seen(eventId, principal.userId);
      const progress = ticker.progress(eventId);
      const current = await served(eventId);
      const gone = await isSoldOut(eventId);
      const admission =
        ticket > 0 && ticket <= current ? await store.admissionOf(eventId, principal.userId) : undefined;
      if (ticket > 0 && ticket <= current && admission === undefined) {
        // A turn that is over on this instance's record: the fan may have joined again elsewhere since.
        ticket = (await ticketOf(eventId, principal.userId, true)) ?? ticket;
      }
      if (ticket <= 0 || ticket > current)
        return { ...queueView(ticket, current, false, progress?.rate), soldOut: gone };
      const view = { ...queueView(ticket, current, admission !== undefined, progress?.rate), soldOut: gone };
      if (admission === undefined) return view;
      const key = `${eventId}/${principal.userId}`;
      if (!waitObserved.has(key)) {
        waitObserved.add(key);
        const joined = await store.joinedAt(eventId, principal.userId);
        if (joined !== undefined) ticker.observeWait(eventId, (Date.now() - joined) / 1000);
      }
      // The token lives as long as the admission could; Redis decides, on each use, whether it lapsed sooner.
      const endsAt = (await store.admittedAt(eventId, admission.tokenId)) + o.slotMs;
      const ttl = Math.max(1, Math.floor((endsAt - Date.now()) / 1000));
      return {
        ...view,
        admissionToken: await tokens.sign(
          { userId: principal.userId, eventId, tokenId: admission.tokenId },
          ttl,
        ),
        admissionExpiresAt: new Date(endsAt).toISOString(),
        admissionLapsesAt: new Date(admission.lapsesAt).toISOString(),
      };
    },

    /**
     * The reservation gate. Events without a waiting room pass. Otherwise the token must be signed by us, for this
     * user and this event, unexpired, and still the user's live admission in Redis (not spent, not lapsed).
     */
    async admit(
      principal: Principal,
      eventId: string,
      token: string | undefined,
    ): Promise<{ tokenId: string } | undefined> {
      const event = await queueEvent(eventId);
      if (event === undefined || !event.hasQueue) return undefined;
      const verdict = await tokens.verify(token, principal.userId, eventId);
      if (typeof verdict === 'string') {
        const detail = {
          missing: 'This event sells through its waiting room: send the X-Admission-Token you were given',
          invalid: 'The admission token is not valid',
          expired: 'The admission token has expired; join the queue again',
          'wrong-user': 'The admission token belongs to someone else',
          'wrong-event': 'The admission token is for another event',
        }[verdict];
        throw new ForbiddenProblem(detail, `admission-${verdict}`);
      }
      // A reservation attempt is a sign of life too: it keeps the slot through a run of 409s.
      ticker.seen(eventId, principal.userId);
      const live = await store.admissionOf(eventId, principal.userId);
      if (live?.tokenId !== verdict.tokenId) throw new AdmissionSpent();
      return { tokenId: verdict.tokenId };
    },

    /**
     * A finished booking frees its slot for the next person. The booking itself records its admission (a unique
     * column), which is what makes the token single-use; this only frees the slot early, so a Redis failure here
     * costs a slot until it lapses, never the booking.
     */
    spend(principal: Principal, eventId: string, tokenId: string): Promise<boolean> {
      return store.spendAdmission(eventId, principal.userId, tokenId);
    },

    async state(eventId: string) {
      await requireQueue(eventId);
      const snapshot = await store.snapshot(eventId);
      const progress = ticker.progress(eventId);
      return {
        ...snapshot,
        waiting: Math.max(0, snapshot.lastTicket - snapshot.served) + snapshot.preQueue,
        measuredAdmitPerSecond: progress?.rate === undefined ? null : Math.round(progress.rate * 10) / 10,
      };
    },

    async change(
      eventId: string,
      change: { admitPerSecond?: number; maxActive?: number; paused?: boolean; drain?: boolean },
    ) {
      await requireQueue(eventId);
      // PostgreSQL first: it is where the queue is rebuilt from if Redis loses its data.
      await o.pool.query(
        `UPDATE events SET admit_per_second = COALESCE($2, admit_per_second), max_active = COALESCE($3, max_active),
           queue_paused = COALESCE($4, queue_paused), queue_closed = COALESCE($5, queue_closed) WHERE id = $1`,
        [
          eventId,
          change.admitPerSecond ?? null,
          change.maxActive ?? null,
          change.paused ?? null,
          change.drain ?? null,
        ],
      );
      await store.update(eventId, { ...change, closed: change.drain });
      events.delete(eventId);
    },
  };
}

export type WaitingRoom = ReturnType<typeof waitingRoom>;
