import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { hmacKey } from './hmac-key.ts';

export interface Admission {
  userId: string;
  eventId: string;
  tokenId: string;
  /** The join number it was given for: a booking with it says that fan is still there. */
  number?: number;
}

export type AdmissionFailure = 'missing' | 'invalid' | 'expired' | 'wrong-user' | 'wrong-event';

const ISSUER = 'reservex-waiting-room';

/**
 * A short-lived token bound to one user and one event. It is HMAC-signed (only ticket-service makes and checks
 * these), and its id must still match the admission recorded in Redis, so a spent or lapsed token is dead even
 * before it expires.
 */
export function admissionTokens(secret: string) {
  const key = hmacKey(secret);
  return {
    async sign(a: Admission, ttlSeconds: number): Promise<string> {
      return new SignJWT({ evt: a.eventId, ...(a.number === undefined ? {} : { num: a.number }) })
        .setProtectedHeader({ alg: 'HS256', typ: 'admission+jwt' })
        .setIssuer(ISSUER)
        .setSubject(a.userId)
        .setJti(a.tokenId)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(await key);
    },

    async verify(
      token: string | undefined,
      userId: string,
      eventId: string,
    ): Promise<Admission | AdmissionFailure> {
      if (token === undefined || token === '') return 'missing';
      try {
        const { payload } = await jwtVerify(token, await key, { issuer: ISSUER, algorithms: ['HS256'] });
        if (payload.sub !== userId) return 'wrong-user';
        if (payload.evt !== eventId) return 'wrong-event';
        if (typeof payload.jti !== 'string') return 'invalid';
        return {
          userId,
          eventId,
          tokenId: payload.jti,
          ...(typeof payload.num === 'number' ? { number: payload.num } : {}),
        };
      } catch (error) {
        return error instanceof joseErrors.JWTExpired ? 'expired' : 'invalid';
      }
    },
  };
}

export type AdmissionTokens = ReturnType<typeof admissionTokens>;
