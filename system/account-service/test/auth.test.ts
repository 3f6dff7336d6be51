import assert from 'node:assert/strict';
import { accessTokenVerifier } from '@reservex/kit';
import { createLocalJWKSet, importJWK, SignJWT } from 'jose';
import pg from 'pg';
import { open } from '../src/domain/sealed-key.ts';
import { anIp, aUser, type RunningAccountService, startAccountService } from './account-fixture.ts';

describe('account-service authentication', () => {
  let svc: RunningAccountService;
  before(async () => {
    svc = await startAccountService({
      TRUST_PROXY: '1',
      LOGIN_LIMIT_PER_ACCOUNT: '5',
      LOGIN_LIMIT_PER_IP: '20',
    });
  });
  after(async () => svc?.stop());

  async function signUpAndLogIn() {
    const user = aUser();
    const signup = await svc.api.post('/api/auth/signup', { body: user });
    assert.equal(signup.status, 201);
    const login = await svc.api.post('/api/auth/login', {
      body: { email: user.email, password: user.password },
      headers: { 'x-forwarded-for': anIp() },
    });
    assert.equal(login.status, 200);
    return { user, id: signup.body.id as string, tokens: login.body };
  }

  describe('signup', () => {
    it('creates an account and answers 201 with id, email and name, never the password', async () => {
      const user = aUser({ email: '  Mixed.Case@Example.TEST ' });
      const res = await svc.api.post('/api/auth/signup', { body: { ...user, email: user.email } });
      assert.equal(res.status, 201);
      assert.match(res.body.id, /^[0-9a-f-]{36}$/);
      assert.equal(res.body.email, 'mixed.case@example.test');
      assert.equal(res.body.name, user.name);
      assert.equal(JSON.stringify(res.body).includes(user.password), false);
    });

    it('refuses a second account with the same email, in any letter case, with 409', async () => {
      const user = aUser();
      assert.equal((await svc.api.post('/api/auth/signup', { body: user })).status, 201);
      const again = await svc.api.post('/api/auth/signup', {
        body: { ...user, email: user.email.toUpperCase() },
      });
      assert.equal(again.status, 409);
      assert.equal(again.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(again.body.type, 'https://reservex.dev/problems/email-taken');
    });

    it('lets exactly one of many concurrent sign-ups with one email through', async () => {
      const user = aUser();
      const results = await Promise.all(
        Array.from({ length: 10 }, () => svc.api.post('/api/auth/signup', { body: user })),
      );
      assert.deepEqual(
        results.map((r) => r.status).sort(),
        [201, 409, 409, 409, 409, 409, 409, 409, 409, 409],
      );
    });

    it('answers invalid input with 400 and a pointer to each bad field', async () => {
      const res = await svc.api.post('/api/auth/signup', {
        body: { email: 'not-an-email', password: 'short', name: '' },
      });
      assert.equal(res.status, 400);
      assert.equal(res.body.type, 'https://reservex.dev/problems/validation');
      const pointers = res.body.errors.map((e: { pointer: string }) => e.pointer).sort();
      assert.deepEqual(pointers, ['/email', '/name', '/password']);
    });

    it('answers malformed JSON with 400 problem+json', async () => {
      const res = await svc.api.post('/api/auth/signup', { raw: '{"email": "a@b.c", ' });
      assert.equal(res.status, 400);
      assert.equal(res.body.type, 'https://reservex.dev/problems/malformed-json');
      assert.equal(res.body.status, 400);
    });

    it('answers an oversized body with 413 and stores nothing', async () => {
      const user = aUser();
      const res = await svc.api.post('/api/auth/signup', { body: { ...user, name: 'x'.repeat(40_000) } });
      assert.equal(res.status, 413);
      assert.equal(res.body.type, 'https://reservex.dev/problems/payload-too-large');
      const login = await svc.api.post('/api/auth/login', {
        body: { email: user.email, password: user.password },
      });
      assert.equal(login.status, 401);
    });

    it('answers a body that is not a JSON object with 400', async () => {
      const res = await svc.api.post('/api/auth/signup', { raw: '"just a string"' });
      assert.equal(res.status, 400);
    });
  });

  describe('login', () => {
    it('returns a bearer access token, a refresh token and the lifetime', async () => {
      const { tokens } = await signUpAndLogIn();
      assert.equal(tokens.tokenType, 'Bearer');
      assert.equal(tokens.expiresIn, 900);
      assert.equal(tokens.accessToken.split('.').length, 3);
      assert.match(tokens.refreshToken, /^rt_[\w-]{43}$/);
    });

    it('answers a wrong password with 401', async () => {
      const user = aUser();
      await svc.api.post('/api/auth/signup', { body: user });
      const res = await svc.api.post('/api/auth/login', {
        body: { email: user.email, password: 'wrong password' },
        headers: { 'x-forwarded-for': anIp() },
      });
      assert.equal(res.status, 401);
      assert.equal(res.body.type, 'https://reservex.dev/problems/invalid-credentials');
    });

    it('answers an unknown email with the same 401 as a wrong password', async () => {
      const res = await svc.api.post('/api/auth/login', {
        body: { email: 'nobody@example.test', password: 'whatever1' },
        headers: { 'x-forwarded-for': anIp() },
      });
      assert.equal(res.status, 401);
      assert.equal(res.body.type, 'https://reservex.dev/problems/invalid-credentials');
    });

    it('limits attempts per account with 429 and Retry-After, from whatever address they come', async () => {
      const user = aUser();
      await svc.api.post('/api/auth/signup', { body: user });
      const statuses: number[] = [];
      let limited: Awaited<ReturnType<typeof svc.api.post>> | undefined;
      for (let i = 0; i < 6; i++) {
        const res = await svc.api.post('/api/auth/login', {
          body: { email: user.email, password: 'wrong password' },
          headers: { 'x-forwarded-for': anIp() },
        });
        statuses.push(res.status);
        limited = res;
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
      const retryAfter = Number(limited?.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      assert.equal(limited?.body.type, 'https://reservex.dev/problems/rate-limited');
      // Even the right password is refused while the account is limited.
      const right = await svc.api.post('/api/auth/login', {
        body: { email: user.email, password: user.password },
        headers: { 'x-forwarded-for': anIp() },
      });
      assert.equal(right.status, 429);
    });

    it('limits attempts per IP address across many accounts', async () => {
      const ip = anIp();
      const statuses: number[] = [];
      for (let i = 0; i < 21; i++) {
        const res = await svc.api.post('/api/auth/login', {
          body: { email: `spray${i}@example.test`, password: 'guess1234' },
          headers: { 'x-forwarded-for': ip },
        });
        statuses.push(res.status);
      }
      assert.equal(statuses.filter((s) => s === 401).length, 20);
      assert.equal(statuses.at(-1), 429);
      const otherIp = await svc.api.post('/api/auth/login', {
        body: { email: 'spray0@example.test', password: 'guess1234' },
        headers: { 'x-forwarded-for': anIp() },
      });
      assert.equal(otherIp.status, 401);
    });
  });

  describe('access tokens', () => {
    it('are EdDSA tokens that verify against the published JWKS, with no shared secret', async () => {
      const { id, user, tokens } = await signUpAndLogIn();
      const jwks = await svc.api.get('/.well-known/jwks.json');
      assert.equal(jwks.status, 200);
      assert.equal(jwks.body.keys.length, 1);
      const [key] = jwks.body.keys;
      assert.equal(key.kty, 'OKP');
      assert.equal(key.crv, 'Ed25519');
      assert.equal(key.d, undefined, 'the private part is never published');
      const verify = accessTokenVerifier(createLocalJWKSet(jwks.body));
      const principal = await verify(tokens.accessToken);
      assert.deepEqual(principal, { userId: id, email: user.email, roles: ['user'] });
    });

    it('open GET /api/users/me to their holder', async () => {
      const { id, user, tokens } = await signUpAndLogIn();
      const me = await svc.api.get('/api/users/me', { token: tokens.accessToken });
      assert.equal(me.status, 200);
      assert.deepEqual(me.body, { id, email: user.email, name: user.name, roles: ['user'] });
    });

    it('are refused with 401 when missing, forged or expired', async () => {
      const { id, user, tokens } = await signUpAndLogIn();
      assert.equal((await svc.api.get('/api/users/me')).status, 401);

      const [h, p] = tokens.accessToken.split('.');
      const forged = `${h}.${p}.${Buffer.alloc(64).toString('base64url')}`;
      const forgedRes = await svc.api.get('/api/users/me', { token: forged });
      assert.equal(forgedRes.status, 401);
      assert.equal(forgedRes.body.type, 'https://reservex.dev/problems/invalid-token');

      // Signed with the service's real key, but an hour past its expiry.
      const db = new pg.Client({ connectionString: svc.db.url });
      await db.connect();
      const { rows } = await db.query('SELECT kid, sealed_private_key FROM signing_keys');
      await db.end();
      const privateJwk = JSON.parse(
        open(rows[0].sealed_private_key, svc.config.KEY_ENCRYPTION_KEY, rows[0].kid),
      );
      const key = await importJWK(privateJwk, 'EdDSA');
      const expired = await new SignJWT({ email: user.email, roles: ['user'] })
        .setProtectedHeader({ alg: 'EdDSA', kid: rows[0].kid })
        .setSubject(id)
        .setIssuer('reservex-account')
        .setAudience('reservex')
        .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
        .sign(key);
      const expiredRes = await svc.api.get('/api/users/me', { token: expired });
      assert.equal(expiredRes.status, 401);
      assert.equal(expiredRes.body.type, 'https://reservex.dev/problems/token-expired');
      assert.equal(expiredRes.headers.get('www-authenticate'), 'Bearer');
    });
  });

  describe('refresh tokens', () => {
    it('rotate: a refresh returns a new pair, and the new refresh token works once more', async () => {
      const { tokens } = await signUpAndLogIn();
      const first = await svc.api.post('/api/auth/refresh', { body: { refreshToken: tokens.refreshToken } });
      assert.equal(first.status, 200);
      assert.notEqual(first.body.refreshToken, tokens.refreshToken);
      assert.equal(first.body.tokenType, 'Bearer');
      const second = await svc.api.post('/api/auth/refresh', {
        body: { refreshToken: first.body.refreshToken },
      });
      assert.equal(second.status, 200);
    });

    it('reused: the old token is refused and the whole family is revoked, including the newest token', async () => {
      const { tokens } = await signUpAndLogIn();
      const rotated = await svc.api.post('/api/auth/refresh', {
        body: { refreshToken: tokens.refreshToken },
      });
      assert.equal(rotated.status, 200);
      const reuse = await svc.api.post('/api/auth/refresh', { body: { refreshToken: tokens.refreshToken } });
      assert.equal(reuse.status, 401);
      assert.equal(reuse.body.type, 'https://reservex.dev/problems/refresh-token-reused');
      const newest = await svc.api.post('/api/auth/refresh', {
        body: { refreshToken: rotated.body.refreshToken },
      });
      assert.equal(newest.status, 401);
    });

    it('reuse in one family leaves the same user’s other sessions alone', async () => {
      const { user, tokens } = await signUpAndLogIn();
      const other = await svc.api.post('/api/auth/login', {
        body: { email: user.email, password: user.password },
        headers: { 'x-forwarded-for': anIp() },
      });
      await svc.api.post('/api/auth/refresh', { body: { refreshToken: tokens.refreshToken } });
      await svc.api.post('/api/auth/refresh', { body: { refreshToken: tokens.refreshToken } });
      const otherSession = await svc.api.post('/api/auth/refresh', {
        body: { refreshToken: other.body.refreshToken },
      });
      assert.equal(otherSession.status, 200);
    });

    it('concurrent refreshes with one token rotate at most once', async () => {
      const { tokens } = await signUpAndLogIn();
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          svc.api.post('/api/auth/refresh', { body: { refreshToken: tokens.refreshToken } }),
        ),
      );
      assert.equal(results.filter((r) => r.status === 200).length, 1);
    });

    it('are refused once expired', async () => {
      const { tokens } = await signUpAndLogIn();
      const db = new pg.Client({ connectionString: svc.db.url });
      await db.connect();
      await db.query("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'");
      await db.end();
      const res = await svc.api.post('/api/auth/refresh', { body: { refreshToken: tokens.refreshToken } });
      assert.equal(res.status, 401);
      assert.match(res.body.detail, /expired/);
    });

    it('are refused when unknown', async () => {
      const res = await svc.api.post('/api/auth/refresh', { body: { refreshToken: 'rt_made_up' } });
      assert.equal(res.status, 401);
    });
  });

  describe('logout', () => {
    it('revokes the session’s refresh token family and answers 204', async () => {
      const { tokens } = await signUpAndLogIn();
      const out = await svc.api.post('/api/auth/logout', {
        token: tokens.accessToken,
        body: { refreshToken: tokens.refreshToken },
      });
      assert.equal(out.status, 204);
      const refresh = await svc.api.post('/api/auth/refresh', {
        body: { refreshToken: tokens.refreshToken },
      });
      assert.equal(refresh.status, 401);
      assert.match(refresh.body.detail, /revoked/);
    });

    it('without a refresh token signs out every session of the user', async () => {
      const { user, tokens } = await signUpAndLogIn();
      const second = await svc.api.post('/api/auth/login', {
        body: { email: user.email, password: user.password },
        headers: { 'x-forwarded-for': anIp() },
      });
      assert.equal((await svc.api.post('/api/auth/logout', { token: tokens.accessToken })).status, 204);
      for (const refreshToken of [tokens.refreshToken, second.body.refreshToken]) {
        assert.equal((await svc.api.post('/api/auth/refresh', { body: { refreshToken } })).status, 401);
      }
    });

    it('needs a bearer token', async () => {
      assert.equal((await svc.api.post('/api/auth/logout')).status, 401);
    });
  });

  describe('the bootstrap admin', () => {
    it('exists with the admin role and can sign in with the configured password', async () => {
      const login = await svc.api.post('/api/auth/login', {
        body: { email: svc.config.ADMIN_EMAIL, password: svc.config.ADMIN_PASSWORD },
        headers: { 'x-forwarded-for': anIp() },
      });
      assert.equal(login.status, 200);
      const me = await svc.api.get('/api/users/me', { token: login.body.accessToken });
      assert.deepEqual(me.body.roles, ['user', 'admin']);
    });
  });
});
