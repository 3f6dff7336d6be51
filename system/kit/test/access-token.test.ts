import assert from 'node:assert/strict';
import { exportJWK, generateKeyPair, type JWTVerifyGetKey, SignJWT } from 'jose';
import { Registry } from 'prom-client';
import {
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  accessTokenVerifier,
  authenticate,
  countTokenChecks,
  createHttpApp,
  listen,
} from '../src/index.ts';
import { httpClient, testAppOptions } from '../src/testing/index.ts';

describe('access token verifier', () => {
  async function signer() {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk = await exportJWK(publicKey);
    let published = true;
    let lookups = 0;
    // A key set that can withdraw its key, and counts how often a signature was checked.
    const keys: JWTVerifyGetKey = async () => {
      lookups++;
      if (!published) throw new Error('no such key');
      return publicKey;
    };
    const sign = (expiresIn: string | number) =>
      new SignJWT({ email: 'fan@example.com', roles: ['user'] })
        .setProtectedHeader({ alg: 'EdDSA', kid: String(jwk.x) })
        .setSubject('u1')
        .setIssuer(ACCESS_TOKEN_ISSUER)
        .setAudience(ACCESS_TOKEN_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(privateKey);
    /** A token signed with the right key, issuer and audience, but missing one claim. */
    const signWithout = (claim: 'exp' | 'sub') => {
      const jwt = new SignJWT({ email: 'fan@example.com', roles: ['user'] })
        .setProtectedHeader({ alg: 'EdDSA', kid: String(jwk.x) })
        .setIssuer(ACCESS_TOKEN_ISSUER)
        .setAudience(ACCESS_TOKEN_AUDIENCE)
        .setIssuedAt();
      if (claim !== 'exp') jwt.setExpirationTime('10m');
      if (claim !== 'sub') jwt.setSubject('u1');
      return jwt.sign(privateKey);
    };
    return { keys, sign, signWithout, withdraw: () => (published = false), lookups: () => lookups };
  }

  it('checks a token’s signature once, then trusts it for the cache window', async () => {
    const s = await signer();
    const verify = accessTokenVerifier(s.keys, { cache: { size: 10, seconds: 30 } });
    const token = await s.sign('10m');
    for (let i = 0; i < 5; i++) assert.equal((await verify(token)).userId, 'u1');
    assert.equal(s.lookups(), 1);
    // A withdrawn key: the remembered token still passes inside the window, a new one does not.
    s.withdraw();
    assert.equal((await verify(token)).userId, 'u1');
    await assert.rejects(verify(await s.sign('11m')), /not valid/);
  });

  it('never trusts a token past its expiry, and remembers nothing when the cache is off', async () => {
    const s = await signer();
    const verify = accessTokenVerifier(s.keys, { cache: { size: 10, seconds: 30 } });
    const soon = await s.sign(Math.floor(Date.now() / 1000) + 1);
    await verify(soon);
    await new Promise((r) => setTimeout(r, 1100));
    await assert.rejects(verify(soon), /expired/);

    const uncached = accessTokenVerifier(s.keys, { cache: { size: 0, seconds: 30 } });
    const token = await s.sign('10m');
    const before = s.lookups();
    await uncached(token);
    await uncached(token);
    assert.equal(s.lookups() - before, 2);
  });

  it('counts each check by how it was made: a signature verified, or a token remembered', async () => {
    const s = await signer();
    const registry = new Registry();
    const verify = accessTokenVerifier(s.keys, {
      cache: { size: 10, seconds: 30 },
      counted: countTokenChecks(registry),
    });
    const [a, b] = await Promise.all([s.sign('10m'), s.sign('11m')]);
    for (const t of [a, a, a, b]) await verify(t);
    const counts = Object.fromEntries(
      (await registry.getSingleMetric('access_token_checks_total')!.get()).values.map((v) => [
        v.labels.how,
        v.value,
      ]),
    );
    assert.deepEqual(counts, { signature: 2, remembered: 2 });
  });

  it('forgets the oldest token when full', async () => {
    const s = await signer();
    const verify = accessTokenVerifier(s.keys, { cache: { size: 2, seconds: 30 } });
    const [a, b, c] = await Promise.all([s.sign('10m'), s.sign('11m'), s.sign('12m')]);
    for (const t of [a, b, c]) await verify(t);
    const before = s.lookups();
    await verify(c);
    await verify(b);
    assert.equal(s.lookups(), before, 'the two newest are remembered');
    await verify(a);
    assert.equal(s.lookups(), before + 1, 'the oldest was forgotten');
  });

  it('refuses a token without an expiry or without a subject with 401 problem+json, however well signed', async () => {
    const s = await signer();
    const verify = accessTokenVerifier(s.keys, { cache: { size: 10, seconds: 30 } });
    const server = await listen(
      createHttpApp({
        ...testAppOptions('token-test'),
        routes: (app) => {
          app.get('/me', authenticate(verify), (_req, res) => {
            res.json({ userId: res.locals.principal?.userId });
          });
        },
      }),
      '127.0.0.1',
      0,
    );
    try {
      const http = httpClient(server.url);
      assert.equal((await http.get('/me', { token: await s.sign('10m') })).status, 200);
      for (const claim of ['exp', 'sub'] as const) {
        const token = await s.signWithout(claim);
        // Twice: a refused token must not be remembered as verified either.
        for (let i = 0; i < 2; i++) {
          const res = await http.get('/me', { token });
          assert.equal(res.status, 401, `without ${claim}`);
          assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
          assert.equal(res.body.type, 'https://reservex.dev/problems/invalid-token');
        }
      }
    } finally {
      await server.close(1000);
    }
  });
});
