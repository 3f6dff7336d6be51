import { hs256Jwt } from './hs256-jwt.ts';

/** A fan's place in one event's queue, as their join gave it: their join number, signed. */
export interface QueueTicket {
  userId: string;
  eventId: string;
  /** The join number: the place itself after the opening, or a number in the pre-queue's lottery. */
  number: number;
  /** When they joined (ms): how long their wait was, once their turn comes, without asking Redis. */
  joinedAt?: number;
}

export type QueueTicketFailure = 'missing' | 'invalid' | 'wrong-user' | 'wrong-event';

const ISSUER = 'reservex-waiting-room';
const TYPE = 'queue-ticket+jwt';
/** Longer than any sale's wait: a ticket dies with its turn, not with a clock. */
const TICKET_SECONDS = 24 * 3600;

/**
 * The fan keeps their place themselves: the join hands out a signed ticket (HMAC, the waiting room's own key, a
 * type apart from admission tokens so neither passes for the other), and the fan shows it when they ask the origin
 * for their own place. So the origin needs no lookup to know where a fan stands, and a fan far back, who only reads
 * the shared status from the edge, needs no origin at all.
 */
export function queueTickets(secret: string) {
  const jwt = hs256Jwt(secret);
  return {
    sign(t: QueueTicket): string {
      const at = t.joinedAt === undefined ? {} : { at: t.joinedAt };
      return jwt.sign(
        TYPE,
        { iss: ISSUER, sub: t.userId, evt: t.eventId, num: t.number, ...at },
        TICKET_SECONDS,
      );
    },

    verify(token: string | undefined, userId: string, eventId: string): QueueTicket | QueueTicketFailure {
      if (token === undefined || token === '') return 'missing';
      const claims = jwt.verify(token, TYPE, ISSUER);
      if (typeof claims === 'string') return 'invalid';
      if (claims.sub !== userId) return 'wrong-user';
      if (claims.evt !== eventId) return 'wrong-event';
      const number = claims.num;
      if (typeof number !== 'number' || !Number.isInteger(number) || number < 1) return 'invalid';
      // A ticket signed before tickets said when (one of an earlier version, mid-sale) is still good without it.
      const at = claims.at;
      const joinedAt = typeof at === 'number' && Number.isInteger(at) && at > 0 ? { joinedAt: at } : {};
      return { userId, eventId, number, ...joinedAt };
    },
  };
}

export type QueueTickets = ReturnType<typeof queueTickets>;
