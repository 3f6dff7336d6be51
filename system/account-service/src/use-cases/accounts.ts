import { randomUUID } from 'node:crypto';
import {
  overLimitWaitMs,
  type Pool,
  type Queryable,
  TooManyRequestsProblem,
  withTransaction,
} from '@reservex/kit';
import type { AccountConfig } from '../config.ts';
import type { SigningKey } from '../domain/access-tokens.ts';
import { newRefreshSecret, signAccessToken, type TokenPair } from '../domain/access-tokens.ts';
import {
  InvalidCredentialsError,
  InvalidRefreshTokenError,
  RefreshTokenReusedError,
} from '../domain/account-errors.ts';
import { accountsForSessions, sessionsAsked } from '../domain/bulk-sessions.ts';
import { normalizeEmail } from '../domain/email.ts';
import { hashPassword, type ScryptCost, verifyPassword } from '../domain/password.ts';
import { decideRefresh } from '../domain/refresh-token-rotation.ts';
import type { LoginThrottle } from '../store/login-throttle.ts';
import {
  insertRefreshToken,
  lockRefreshToken,
  markRefreshTokenUsed,
  revokeAllForUser,
  revokeFamily,
} from '../store/refresh-tokens.ts';
import { findUserByEmail, findUserById, findUsersByIds, insertUser, type User } from '../store/users.ts';
import type { BoundedHashing } from './bounded-hashing.ts';

export interface AccountDeps {
  pool: Pool;
  throttle: LoginThrottle;
  hashing: BoundedHashing;
  /** The key that signs new tokens: it changes when the keys are rotated. */
  signingKey: () => SigningKey;
  config: AccountConfig;
  onLogin: (outcome: 'success' | 'invalid' | 'rate-limited') => void;
  onSessionsMinted: (count: number) => void;
}

/** An access token minted without a login: the same token a login would give, and no refresh token. */
export interface MintedSession {
  userId: string;
  accessToken: string;
  expiresIn: number;
}

export interface PublicUser {
  id: string;
  email: string;
  name: string;
  roles: User['roles'];
}

const publicUser = (u: User): PublicUser => ({ id: u.id, email: u.email, name: u.name, roles: u.roles });

/** The account service's use cases: each is one request's worth of work, with its transaction boundaries. */
export function accountUseCases(deps: AccountDeps) {
  const { pool, config } = deps;
  const cost: ScryptCost = { log2N: config.PASSWORD_SCRYPT_LOG2N, r: 8, p: 1 };
  // Verifying against a throwaway hash for unknown emails keeps the answer time the same whether or not the
  // account exists, so login timing does not reveal who is registered.
  let decoyHash: Promise<string> | undefined;

  async function issueTokens(user: User, familyId: string, db: Queryable) {
    const refreshToken = newRefreshSecret();
    await insertRefreshToken(db, {
      familyId,
      userId: user.id,
      secret: refreshToken,
      expiresAt: new Date(Date.now() + config.REFRESH_TOKEN_TTL_SECONDS * 1000),
    });
    const accessToken = await signAccessToken(deps.signingKey(), user, config.ACCESS_TOKEN_TTL_SECONDS);
    return {
      accessToken,
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: config.ACCESS_TOKEN_TTL_SECONDS,
    } as TokenPair;
  }

  return {
    async signup(input: { email: string; password: string; name: string }, ip: string): Promise<PublicUser> {
      const attempts = await deps.throttle.countSignup(ip);
      if (attempts.count > config.SIGNUP_LIMIT_PER_IP)
        throw new TooManyRequestsProblem(
          attempts.resetMs / 1000,
          'Too many sign-ups from this address; try again later',
        );
      const passwordHash = await deps.hashing(() => hashPassword(input.password, cost));
      const user = await insertUser(pool, {
        email: normalizeEmail(input.email),
        name: input.name,
        passwordHash,
        roles: ['user'],
      });
      return publicUser(user);
    },

    async login(input: { email: string; password: string }, ip: string): Promise<TokenPair> {
      const email = normalizeEmail(input.email);
      const counts = await deps.throttle.countLogin(email, ip);
      // The per-account limit protects against guesses spread over many addresses; it does not apply to an
      // address that has signed in to this account before, so such an attack cannot lock the owner out.
      const waitMs = overLimitWaitMs([
        { ...counts.pair, limit: config.LOGIN_LIMIT_PER_ACCOUNT_AND_IP },
        { ...counts.perIp, limit: config.LOGIN_LIMIT_PER_IP },
        {
          ...counts.perAccount,
          limit: counts.knownAddress ? Number.POSITIVE_INFINITY : config.LOGIN_LIMIT_PER_ACCOUNT,
        },
      ]);
      if (waitMs > 0) {
        deps.onLogin('rate-limited');
        throw new TooManyRequestsProblem(waitMs / 1000, 'Too many login attempts; try again later');
      }
      const user = await findUserByEmail(pool, email);
      decoyHash ??= hashPassword(randomUUID(), cost);
      const stored = user?.passwordHash ?? (await decoyHash);
      const valid = await deps.hashing(() => verifyPassword(input.password, stored));
      if (user === undefined || !valid) {
        deps.onLogin('invalid');
        throw new InvalidCredentialsError();
      }
      deps.onLogin('success');
      await deps.throttle.rememberAddress(email, ip);
      return issueTokens(user, randomUUID(), pool);
    },

    async refresh(refreshToken: string): Promise<TokenPair> {
      // Reuse revokes the family and must stay revoked, so that write commits even though the request fails.
      const outcome = await withTransaction(pool, async (tx) => {
        const stored = await lockRefreshToken(tx, refreshToken);
        if (stored === undefined) return { error: new InvalidRefreshTokenError('Unknown refresh token') };
        const decision = decideRefresh(stored, new Date());
        switch (decision) {
          case 'revoked':
            return { error: new InvalidRefreshTokenError('This refresh token was revoked; sign in again') };
          case 'expired':
            return { error: new InvalidRefreshTokenError('This refresh token has expired; sign in again') };
          case 'reuse-detected':
            await revokeFamily(tx, stored.familyId);
            return { error: new RefreshTokenReusedError() };
          case 'rotate': {
            const user = await findUserById(tx, stored.userId);
            if (user === undefined)
              return { error: new InvalidRefreshTokenError('The account no longer exists') };
            await markRefreshTokenUsed(tx, stored.id);
            return { tokens: await issueTokens(user, stored.familyId, tx) };
          }
        }
      });
      if ('error' in outcome) throw outcome.error;
      return outcome.tokens;
    },

    /** Signs out one session (its refresh-token family) or, without a refresh token, every session of the user. */
    async logout(userId: string, refreshToken: string | undefined): Promise<void> {
      await withTransaction(pool, async (tx) => {
        if (refreshToken === undefined) {
          await revokeAllForUser(tx, userId);
          return;
        }
        const stored = await lockRefreshToken(tx, refreshToken);
        if (stored !== undefined && stored.userId === userId) await revokeFamily(tx, stored.familyId);
      });
    },

    /**
     * Access tokens for existing accounts without their passwords (the load harness's million fans; the route is
     * admin-only and off unless BULK_SESSIONS_ENABLED). Signed as a login signs: same key, claims and lifetime,
     * roles from each account's row. Nothing is stored, so nothing needs a transaction.
     */
    async mintSessions(userIds: readonly string[]): Promise<MintedSession[]> {
      const asked = sessionsAsked(userIds);
      const users = accountsForSessions(asked, await findUsersByIds(pool, asked));
      const key = deps.signingKey();
      const sessions = await Promise.all(
        users.map(async (user) => ({
          userId: user.id,
          accessToken: await signAccessToken(key, user, config.ACCESS_TOKEN_TTL_SECONDS),
          expiresIn: config.ACCESS_TOKEN_TTL_SECONDS,
        })),
      );
      deps.onSessionsMinted(sessions.length);
      return sessions;
    },

    async me(userId: string): Promise<PublicUser | undefined> {
      const user = await findUserById(pool, userId);
      return user === undefined ? undefined : publicUser(user);
    },
  };
}

export type AccountUseCases = ReturnType<typeof accountUseCases>;
