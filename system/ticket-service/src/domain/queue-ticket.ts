import { jwtVerify, SignJWT } from 'jose';
import { hmacKey } from './hmac-key.ts';

/** A fan's place in one event's queue, as their join gave it: their join number, signed. */
export interface QueueTicket {
  userId: string;
  eventId: string;
  /** The join number: the place itself after the opening, or a number in the pre-queue's lottery. */
  number: number;
}

export type QueueTicketFailure = 'missing' | 'invalid' | 'wrong-user' | 'wrong-event';

const ISSUER = 'reservex-waiting-room';
const TYPE = 'queue-ticket+jwt';
/** Longer than any sale's wait: a ticket dies with its turn, not with a clock. */
const TICKET_HOURS = 24;

/**
 * The fan keeps their place themselves: the join hands out a signed ticket (HMAC, the waiting room's own key, a
 * type apart from admission tokens so neither passes for the other), and the fan shows it when they ask the origin
 * for their own place. So the origin needs no lookup to know where a fan stands, and a fan far back, who only reads
 * the shared status from the edge, needs no origin at all.
 */
export function queueTickets(secret: string) {
  const key = hmacKey(secret);
  return {
    async sign(t: QueueTicket): Promise<string> {
      return new SignJWT({ evt: t.eventId, num: t.number })
        .setProtectedHeader({ alg: 'HS256', typ: TYPE })
        .setIssuer(ISSUER)
        .setSubject(t.userId)
        .setIssuedAt()
        .setExpirationTime(`${TICKET_HOURS}h`)
        .sign(await key);
    },

    async verify(
      token: string | undefined,
      userId: string,
      eventId: string,
    ): Promise<QueueTicket | QueueTicketFailure> {
      if (token === undefined || token === '') return 'missing';
      try {
        const { payload, protectedHeader } = await jwtVerify(token, await key, {
          issuer: ISSUER,
          algorithms: ['HS256'],
          typ: TYPE,
        });
        if (payload.sub !== userId) return 'wrong-user';
        if (payload.evt !== eventId) return 'wrong-event';
        const number = payload.num;
        if (
          protectedHeader.typ !== TYPE ||
          typeof number !== 'number' ||
          !Number.isInteger(number) ||
          number < 1
        )
          return 'invalid';
        return { userId, eventId, number };
      } catch {
        return 'invalid';
      }
    },
  };
}

export type QueueTickets = ReturnType<typeof queueTickets>;
