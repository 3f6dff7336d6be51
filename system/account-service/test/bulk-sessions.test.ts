import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { accessTokenVerifier, ConfigError, loadConfig, remoteKeySet } from '@reservex/kit';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import pg from 'pg';
import { accountConfigSchema } from '../src/config.ts';
import { hashPassword } from '../src/domain/password.ts';
import { anIp, aUser, type RunningAccountService, startAccountService } from './account-fixture.ts';

const PASSWORD = 'lightstick-2026!';

/** Accounts written straight into the database, as the load harness writes its fans (one shared hash, N=2^8). */
async function seedAccounts(svc: RunningAccountService, count: number) {
  const hash = await hashPassword(PASSWORD, { log2N: 8, r: 8, p: 1 });
  const tag = randomUUID().slice(0, 8);
  const db = new pg.Client({ connectionString: svc.db.url });
  await db.connect();
  try {
    const { rows } = await db.query<{ id: string; email: string }>(
      `INSERT INTO users (email, name, password_hash)
       SELECT 'fan' || n || '.' || $2 || '@fans.example', 'Fan ' || n, $1 FROM generate_series(1, $3::int) AS n
       RETURNING id, email`,
      [hash, tag, count],
    );
    return rows;
  } finally {
    await db.end();
  }
}

async function adminToken(svc: RunningAccountService): Promise<string> {
  const login = await svc.api.post('/api/auth/login', {
    body: { email: svc.config.ADMIN_EMAIL, password: svc.config.ADMIN_PASSWORD },
    headers: { 'x-forwarded-for': anIp() },
  });
  assert.equal(login.status, 200);
  return login.body.accessToken;
}

async function mintedSoFar(svc: RunningAccountService): Promise<number> {
  const metrics = (await svc.api.get('/metrics')).body as string;
  return Number(/^account_sessions_minted_total (\d+)/m.exec(metrics)?.[1] ?? Number.NaN);
}

describe('account-service: sessions minted in bulk (POST /api/admin/sessions)', () => {
  describe('switched off, as it is by default', () => {
    let svc: RunningAccountService;
    before(async () => {
      svc = await startAccountService({ TRUST_PROXY: '1' });
    });
    after(async () => svc?.stop());

    it('is refused with 404 bulk-sessions-off, to an admin and to a caller without a token alike', async () => {
      assert.equal(svc.config.BULK_SESSIONS_ENABLED, false);
      const [user] = await seedAccounts(svc, 1);
      for (const token of [await adminToken(svc), undefined]) {
        const res = await svc.api.post('/api/admin/sessions', { token, body: { userIds: [user!.id] } });
        assert.equal(res.status, 404);
        assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
        assert.equal(res.body.type, 'https://reservex.dev/problems/bulk-sessions-off');
        assert.equal(res.body.sessions, undefined);
      }
    });
  });

  describe('in production', () => {
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://account:a-real-secret@db.internal:5432/account',
      ADMIN_EMAIL: 'ops@example.com',
      ADMIN_PASSWORD: 'a long and unguessable password',
      KEY_ENCRYPTION_KEY: 'kek-for-tests-only-kek-for-tests-only-0123456789',
    };

    it('the service refuses to start with BULK_SESSIONS_ENABLED=true, and says why', () => {
      assert.throws(
        () => loadConfig(accountConfigSchema, { ...production, BULK_SESSIONS_ENABLED: 'true' }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.equal(error.problems.length, 1);
          assert.match(error.problems[0]!, /^BULK_SESSIONS_ENABLED: .*refused with NODE_ENV=production/);
          return true;
        },
      );
      assert.equal(loadConfig(accountConfigSchema, production).BULK_SESSIONS_ENABLED, false);
    });
  });

  describe('switched on', () => {
    let svc: RunningAccountService;
    let admin: string;
    before(async () => {
      svc = await startAccountService({
        TRUST_PROXY: '1',
        BULK_SESSIONS_ENABLED: 'true',
        LOGIN_LIMIT_PER_IP: '1000000',
      });
      admin = await adminToken(svc);
    });
    after(async () => svc?.stop());

    it('gives an admin tokens that verify with the service’s own JWKS and carry each account’s id, email and roles', async () => {
      const fans = await seedAccounts(svc, 2);
      const adminId = (await svc.api.get('/api/users/me', { token: admin })).body.id as string;
      const userIds = [fans[0]!.id, adminId, fans[1]!.id];
      const res = await svc.api.post('/api/admin/sessions', { token: admin, body: { userIds } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.deepEqual(
        res.body.sessions.map((s: { userId: string }) => s.userId),
        userIds,
        'one session per id, in the order asked',
      );
      // As ticket-service verifies: the remote key set, fetched from the published JWKS.
      const verify = accessTokenVerifier(remoteKeySet(`${svc.url}/.well-known/jwks.json`));
      const principals = await Promise.all(
        res.body.sessions.map((s: { accessToken: string }) => verify(s.accessToken)),
      );
      assert.deepEqual(principals, [
        { userId: fans[0]!.id, email: fans[0]!.email, roles: ['user'] },
        { userId: adminId, email: svc.config.ADMIN_EMAIL, roles: ['user', 'admin'] },
        { userId: fans[1]!.id, email: fans[1]!.email, roles: ['user'] },
      ]);
      for (const session of res.body.sessions)
        assert.equal(session.expiresIn, svc.config.ACCESS_TOKEN_TTL_SECONDS);
      const me = await svc.api.get('/api/users/me', { token: res.body.sessions[0].accessToken });
      assert.equal(me.status, 200);
      assert.equal(me.body.id, fans[0]!.id);
    });

    it('mints the token a login gives: same key, header, claims and lifetime, and no refresh token', async () => {
      const [fan] = await seedAccounts(svc, 1);
      const login = await svc.api.post('/api/auth/login', {
        body: { email: fan!.email, password: PASSWORD },
        headers: { 'x-forwarded-for': anIp() },
      });
      const minted = await svc.api.post('/api/admin/sessions', {
        token: admin,
        body: { userIds: [fan!.id] },
      });
      const [session] = minted.body.sessions;
      assert.deepEqual(Object.keys(session).sort(), ['accessToken', 'expiresIn', 'userId']);
      assert.deepEqual(
        decodeProtectedHeader(session.accessToken),
        decodeProtectedHeader(login.body.accessToken),
      );
      const claims = ({ iat, exp, jti, ...rest }: Record<string, unknown>) => ({
        ...rest,
        lifetime: Number(exp) - Number(iat),
        hasId: typeof jti === 'string',
      });
      assert.deepEqual(claims(decodeJwt(session.accessToken)), claims(decodeJwt(login.body.accessToken)));
      assert.equal(claims(decodeJwt(session.accessToken)).lifetime, svc.config.ACCESS_TOKEN_TTL_SECONDS);
    });

    it('gives one session to an id asked for twice, whatever its letter case', async () => {
      const [fan] = await seedAccounts(svc, 1);
      const res = await svc.api.post('/api/admin/sessions', {
        token: admin,
        body: { userIds: [fan!.id, fan!.id.toUpperCase()] },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.body.sessions.map((s: { userId: string }) => s.userId),
        [fan!.id],
      );
    });

    it('refuses a signed-in user who is not an admin with 403, and a caller without a token with 401', async () => {
      const user = aUser();
      await svc.api.post('/api/auth/signup', { body: user });
      const login = await svc.api.post('/api/auth/login', {
        body: { email: user.email, password: user.password },
        headers: { 'x-forwarded-for': anIp() },
      });
      const me = await svc.api.get('/api/users/me', { token: login.body.accessToken });
      const asUser = await svc.api.post('/api/admin/sessions', {
        token: login.body.accessToken,
        body: { userIds: [me.body.id] },
      });
      assert.equal(asUser.status, 403);
      assert.equal(asUser.body.type, 'https://reservex.dev/problems/forbidden');
      const anonymous = await svc.api.post('/api/admin/sessions', { body: { userIds: [me.body.id] } });
      assert.equal(anonymous.status, 401);
    });

    it('refuses the whole request with 422 unknown-users when an id names no account, naming it, and mints nothing', async () => {
      const [fan] = await seedAccounts(svc, 1);
      const nobody = randomUUID();
      const before = await mintedSoFar(svc);
      const res = await svc.api.post('/api/admin/sessions', {
        token: admin,
        body: { userIds: [fan!.id, nobody] },
      });
      assert.equal(res.status, 422);
      assert.equal(res.body.type, 'https://reservex.dev/problems/unknown-users');
      assert.deepEqual(res.body.unknownUserIds, [nobody]);
      assert.equal(res.body.sessions, undefined);
      assert.equal(await mintedSoFar(svc), before);
    });

    it('answers an id that is not a UUID, or no ids at all, with 400', async () => {
      for (const userIds of [['not-a-uuid'], []]) {
        const res = await svc.api.post('/api/admin/sessions', { token: admin, body: { userIds } });
        assert.equal(res.status, 400, JSON.stringify(userIds));
        assert.equal(res.body.type, 'https://reservex.dev/problems/validation');
      }
    });

    it('serves 500 ids in one request and refuses 501 with 413 too-many-sessions, naming the most', async () => {
      const fans = await seedAccounts(svc, 501);
      const ids = fans.map((f) => f.id);
      const most = await svc.api.post('/api/admin/sessions', {
        token: admin,
        body: { userIds: ids.slice(0, 500) },
      });
      assert.equal(most.status, 200, JSON.stringify(most.body));
      assert.equal(most.body.sessions.length, 500);
      const over = await svc.api.post('/api/admin/sessions', { token: admin, body: { userIds: ids } });
      assert.equal(over.status, 413);
      assert.equal(over.body.type, 'https://reservex.dev/problems/too-many-sessions');
      assert.equal(over.body.maxUserIds, 500);
    });
  });
});
