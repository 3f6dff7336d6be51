import { hs256Jwt } from './hs256-jwt.ts';

export interface Admission {
  userId: string;
  eventId: string;
  tokenId: string;
  /** The join number it was given for: a booking with it says that fan is still there. */
  number?: number;
}

export type AdmissionFailure = 'missing' | 'invalid' | 'expired' | 'wrong-user' | 'wrong-event';

const ISSUER = 'reservex-waiting-room';
/** A type apart from queue tickets, which the same key signs: neither passes for the other. */
const TYPE = 'admission+jwt';

/**
 * A short-lived token bound to one user and one event. It is HMAC-signed (only ticket-service makes and checks
 * these), and its id must still match the admission recorded in Redis, so a spent or lapsed token is dead even
 * before it expires.
 */
export function admissionTokens(secret: string) {
  const jwt = hs256Jwt(secret);
  return {
    sign(a: Admission, ttlSeconds: number): string {
      return jwt.sign(
        TYPE,
        {
          iss: ISSUER,
          sub: a.userId,
          jti: a.tokenId,
          evt: a.eventId,
          ...(a.number === undefined ? {} : { num: a.number }),
        },
        ttlSeconds,
      );
    },

    verify(token: string | undefined, userId: string, eventId: string): Admission | AdmissionFailure {
      if (token === undefined || token === '') return 'missing';
      const claims = jwt.verify(token, TYPE, ISSUER);
      if (typeof claims === 'string') return claims;
      if (claims.sub !== userId) return 'wrong-user';
      if (claims.evt !== eventId) return 'wrong-event';
      if (typeof claims.jti !== 'string') return 'invalid';
      return {
        userId,
        eventId,
        tokenId: claims.jti,
        ...(typeof claims.num === 'number' ? { number: claims.num } : {}),
      };
    },
  };
}

export type AdmissionTokens = ReturnType<typeof admissionTokens>;
