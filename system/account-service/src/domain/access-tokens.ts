import { type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, type Role } from '@reservex/kit';
import { SignJWT } from 'jose';

/** The private key that signs access tokens, and the key id the JWKS publishes its public half under. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export async function signAccessToken(
  key: SigningKey,
  user: { id: string; email: string; roles: Role[] },
  ttlSeconds: number,
): Promise<string> {
  return new SignJWT({ email: user.email, roles: user.roles })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' })
    .setSubject(user.id)
    .setIssuer(ACCESS_TOKEN_ISSUER)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key.privateKey);
}

/** Opaque and unguessable: 256 random bits. Only its hash is stored. */
export function newRefreshSecret(): string {
  return `rt_${randomBytes(32).toString('base64url')}`;
}
