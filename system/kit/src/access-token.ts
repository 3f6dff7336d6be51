import type { RequestHandler } from 'express';
import { createRemoteJWKSet, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose';
import './express-locals.ts';
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

export function accessTokenVerifier(keys: JWTVerifyGetKey): AccessTokenVerifier {
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: ACCESS_TOKEN_ISSUER,
        audience: ACCESS_TOKEN_AUDIENCE,
        algorithms: ['EdDSA'],
      });
      const roles = Array.isArray(payload.roles)
        ? payload.roles.filter((r): r is Role => ROLES.includes(r))
        : [];
      if (typeof payload.sub !== 'string' || typeof payload.email !== 'string') {
        throw new UnauthorizedProblem('The access token lacks its subject', 'invalid-token');
      }
      return { userId: payload.sub, email: payload.email, roles };
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
