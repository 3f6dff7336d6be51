import type { RequestHandler } from 'express';
import { createRemoteJWKSet, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose';
import { Counter, type Registry } from 'prom-client';
import { BoundedMap } from './bounded-map.ts';
import './express-locals.ts';
import { metricOnce } from './metrics.ts';
import { type Principal, ROLES, type Role } from './principal.ts';
import { ForbiddenProblem, UnauthorizedProblem } from './problem.ts';

export const ACCESS_TOKEN_ISSUER = 'reservex-account';
export const ACCESS_TOKEN_AUDIENCE = 'reservex';
export { type Principal, ROLES, type Role } from './principal.ts';

export type AccessTokenVerifier = (token: string) => Promise<Principal>;

/**
 * Verifies access tokens locally against the account service's published keys. The key set is fetched once and
 * cached; it is fetched again only when a token names a key id it has not seen (a rotation), never per request.
 */
export function remoteKeySet(jwksUrl: string): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(jwksUrl), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 });
}

interface Remembered {
  principal: Principal;
  until: number;
}

export interface VerifiedTokenCache {
  /** Tokens remembered at most (2 at least, 0 for none); those least recently used are forgotten first. */
  size: number;
  /** How long a verified token is trusted without checking its signature again (never past its expiry). */
  seconds: number;
}

/** How a token was accepted or refused: its signature checked, or found among the tokens checked before. */
export type TokenCheck = 'signature' | 'remembered';

/**
 * Counts the verifier's checks (access_token_checks_total{how}). Each process remembers its own checked tokens, so
 * a fan whose requests a balancer spreads over several replicas has their signature checked on each: the sizing
 * check reads this counter for what that cost (docs/scale.md).
 */
export function countTokenChecks(registry: Registry): (how: TokenCheck) => void {
  const counter = metricOnce(
    registry,
    'access_token_checks_total',
    () =>
      new Counter({
        name: 'access_token_checks_total',
        help: 'Access tokens checked, by how: their Ed25519 signature verified, or remembered from an earlier check',
        labelNames: ['how'] as const,
        registers: [registry],
      }),
  );
  // Bound once: the verifier counts on every signed request.
  const by = {
    signature: counter.labels({ how: 'signature' }),
    remembered: counter.labels({ how: 'remembered' }),
  };
  return (how) => by[how].inc();
}

/**
 * A fan sends the same token with every request: checking its Ed25519 signature costs about 126 µs of CPU here,
 * a measured share of ticket-service's CPU per booking (bench:saga), and a whole core for a stadium's crowd
 * polling its place. The same bytes verify the same way, so a verified token is remembered; the only thing that
 * changes meanwhile is a signing key withdrawn from the JWKS, and the key set itself is cached for 10 minutes
 * (remoteKeySet), so remembering a token for 5 adds no new window. 250,000 tokens take about 100 MB.
 */
export function accessTokenVerifier(
  keys: JWTVerifyGetKey,
  {
    cache = { size: 250_000, seconds: 300 },
    counted = () => {},
  }: { cache?: VerifiedTokenCache; counted?: (how: TokenCheck) => void } = {},
): AccessTokenVerifier {
  const verified = cache.size > 0 ? new BoundedMap<string, Remembered>(Math.max(2, cache.size)) : undefined;
  const check = checker(keys);
  return async (token) => {
    const now = Date.now();
    const known = verified?.get(token);
    if (known !== undefined && known.until > now) {
      counted('remembered');
      return known.principal;
    }
    counted('signature');
    const { principal, expiresAt } = await check(token);
    verified?.set(token, { principal, until: Math.min(expiresAt, now + cache.seconds * 1000) });
    return principal;
  };
}

function checker(keys: JWTVerifyGetKey) {
  return async (token: string): Promise<{ principal: Principal; expiresAt: number }> => {
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: ACCESS_TOKEN_ISSUER,
        audience: ACCESS_TOKEN_AUDIENCE,
        algorithms: ['EdDSA'],
        // account-service always sets both: a token without an expiry would be good for ever, and one without a
        // subject names nobody.
        requiredClaims: ['exp', 'sub'],
      });
      const roles = Array.isArray(payload.roles)
        ? payload.roles.filter((r): r is Role => ROLES.includes(r))
        : [];
      if (
        typeof payload.sub !== 'string' ||
        typeof payload.exp !== 'number' ||
        typeof payload.email !== 'string'
      ) {
        throw new UnauthorizedProblem('The access token lacks its subject or expiry', 'invalid-token');
      }
      return {
        principal: { userId: payload.sub, email: payload.email, roles },
        expiresAt: payload.exp * 1000,
      };
    } catch (error) {
      if (error instanceof UnauthorizedProblem) throw error;
      if (error instanceof joseErrors.JWTExpired) {
        throw new UnauthorizedProblem('The access token has expired; refresh it', 'token-expired');
      }
      throw new UnauthorizedProblem('The access token is not valid', 'invalid-token');
    }
  };
}

export function authenticate(verify: AccessTokenVerifier): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    const match = header === undefined ? null : /^Bearer ([\w-]+\.[\w-]+\.[\w-]+)$/.exec(header);
    if (match?.[1] === undefined) throw new UnauthorizedProblem();
    res.locals.principal = await verify(match[1]);
    next();
  };
}

export function requireRole(role: Role): RequestHandler {
  return (_req, res, next) => {
    if (!res.locals.principal?.roles.includes(role))
      throw new ForbiddenProblem(`This needs the ${role} role`);
    next();
  };
}
