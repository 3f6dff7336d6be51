import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { SignJWT } from 'jose';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER, type Role } from '../access-token.ts';

export interface TestTokenIssuer {
  /** Where a service under test fetches the keys, as it would fetch account-service's. */
  jwksUrl: string;
  /** An access token for this user, signed like account-service signs them. */
  token(user?: { userId?: string; email?: string; roles?: Role[] }): Promise<string>;
  user(roles?: Role[]): Promise<{ userId: string; token: string }>;
  close(): Promise<void>;
}

/**
 * A stand-in for account-service's token signing, so a test of one service needs no other service: an Ed25519 key,
 * its JWKS served over real HTTP, and tokens with account-service's issuer and audience.
 */
export async function testTokenIssuer(): Promise<TestTokenIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = `test-${randomUUID().slice(0, 8)}`;
  const jwks = JSON.stringify({
    keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' }],
  });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const token: TestTokenIssuer['token'] = (user = {}) =>
    new SignJWT({ email: user.email ?? 'fan@example.test', roles: user.roles ?? ['user'] })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
      .setSubject(user.userId ?? randomUUID())
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('15m')
      .sign(privateKey);
  return {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    token,
    async user(roles = ['user']) {
      const userId = randomUUID();
      return { userId, token: await token({ userId, roles }) };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
