import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '@reservex/kit';
import { decodeProtectedHeader } from 'jose';
import pg from 'pg';
import { accountConfigSchema } from '../src/config.ts';
import { createAccountService } from '../src/service.ts';
import { anIp, aUser, type RunningAccountService, startAccountService } from './account-fixture.ts';

const KEK = 'kek-for-tests-only-kek-for-tests-only-0123456789';

describe('account-service security', () => {
  describe('in production', () => {
    it('refuses to start with the development admin, database credentials or no key-encryption key, naming each', () => {
      assert.throws(
        () => loadConfig(accountConfigSchema, { NODE_ENV: 'production' }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          for (const variable of ['ADMIN_EMAIL', 'ADMIN_PASSWORD', 'DATABASE_URL', 'KEY_ENCRYPTION_KEY'])
            assert.match(error.message, new RegExp(variable));
          return true;
        },
      );
      const config = loadConfig(accountConfigSchema, {
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://account:a-real-secret@db.internal:5432/account',
        ADMIN_EMAIL: 'ops@example.com',
        ADMIN_PASSWORD: 'a long and unguessable password',
        KEY_ENCRYPTION_KEY: KEK,
      });
      assert.equal(config.NODE_ENV, 'production');
    });
  });

  describe('the bootstrap admin', () => {
    let svc: RunningAccountService;
    before(async () => {
      svc = await startAccountService({ KEY_ENCRYPTION_KEY: KEK });
    });
    after(async () => svc?.stop());

    it('never promotes an account someone registered with that email: the service refuses to start and says why', async () => {
      const squatter = aUser();
      assert.equal((await svc.api.post('/api/auth/signup', { body: squatter })).status, 201);
      const second = createAccountService(
        loadConfig(accountConfigSchema, {
          DATABASE_URL: svc.config.DATABASE_URL,
          REDIS_URL: svc.config.REDIS_URL,
          REDIS_KEY_PREFIX: svc.config.REDIS_KEY_PREFIX,
          PORT: '0',
          LOG_LEVEL: 'silent',
          PASSWORD_SCRYPT_LOG2N: '12',
          ADMIN_EMAIL: squatter.email,
          ADMIN_PASSWORD: 'the operator password',
          KEY_ENCRYPTION_KEY: KEK,
        }),
      );
      try {
        await assert.rejects(second.start(), /ADMIN_EMAIL/);
      } finally {
        await second.stop().catch(() => {});
      }
      const pool = new pg.Pool({ connectionString: svc.config.DATABASE_URL, max: 1 });
      try {
        const { rows } = await pool.query('SELECT roles FROM users WHERE email = $1', [squatter.email]);
        assert.deepEqual(rows[0].roles, ['user']);
      } finally {
        await pool.end();
      }
    });
  });

  describe('throttling', () => {
    let svc: RunningAccountService;
    before(async () => {
      svc = await startAccountService({
        TRUST_PROXY: '1',
        KEY_ENCRYPTION_KEY: KEK,
        LOGIN_LIMIT_PER_ACCOUNT_AND_IP: '3',
        SIGNUP_LIMIT_PER_IP: '3',
        PASSWORD_HASH_CONCURRENCY: '1',
        PASSWORD_HASH_QUEUE: '2',
      });
    });
    after(async () => svc?.stop());

    it('limits sign-ups per client address with 429 and Retry-After', async () => {
      const ip = anIp();
      const statuses: number[] = [];
      let last: Awaited<ReturnType<typeof svc.api.post>> | undefined;
      for (let i = 0; i < 4; i++) {
        last = await svc.api.post('/api/auth/signup', { body: aUser(), headers: { 'x-forwarded-for': ip } });
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [201, 201, 201, 429]);
      assert.ok(Number(last?.headers.get('retry-after')) >= 1);
    });

    it('bounds password hashing: a flood gets quick 503s with Retry-After instead of queueing without end', async () => {
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          svc.api.post('/api/auth/signup', { body: aUser(), headers: { 'x-forwarded-for': anIp() } }),
        ),
      );
      const statuses = results.map((r) => r.status);
      assert.ok(statuses.includes(503), `statuses ${statuses}`);
      assert.ok(
        statuses.every((s) => s === 201 || s === 503),
        `statuses ${statuses}`,
      );
      for (const r of results.filter((r) => r.status === 503))
        assert.ok(Number(r.headers.get('retry-after')) >= 1);
    });

    it('bad passwords from one address do not lock the owner out from another', async () => {
      const user = aUser();
      assert.equal(
        (await svc.api.post('/api/auth/signup', { body: user, headers: { 'x-forwarded-for': anIp() } }))
          .status,
        201,
      );
      const attacker = anIp();
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await svc.api.post('/api/auth/login', {
          body: { email: user.email, password: 'not the password' },
          headers: { 'x-forwarded-for': attacker },
        });
        statuses.push(res.status);
      }
      assert.deepEqual(statuses, [401, 401, 401, 429]);
      const owner = await svc.api.post('/api/auth/login', {
        body: { email: user.email, password: user.password },
        headers: { 'x-forwarded-for': anIp() },
      });
      assert.equal(owner.status, 200);
    });
  });

  describe('signing keys', () => {
    let svc: RunningAccountService;
    before(async () => {
      svc = await startAccountService({ KEY_ENCRYPTION_KEY: KEK });
    });
    after(async () => svc?.stop());

    const adminToken = async () =>
      (
        await svc.api.post('/api/auth/login', {
          body: { email: svc.config.ADMIN_EMAIL, password: svc.config.ADMIN_PASSWORD },
        })
      ).body.accessToken as string;

    it('keeps private keys encrypted at rest', async () => {
      const pool = new pg.Pool({ connectionString: svc.config.DATABASE_URL, max: 1 });
      try {
        const { rows } = await pool.query('SELECT * FROM signing_keys');
        assert.ok(rows.length >= 1);
        for (const row of rows) assert.doesNotMatch(JSON.stringify(row), /"d"\s*:/, 'a private JWK in clear');
      } finally {
        await pool.end();
      }
    });

    it('rotate with overlap: the JWKS serves old and new keys, old tokens keep working, new ones use the new key', async () => {
      const before = await adminToken();
      const oldKid = decodeProtectedHeader(before).kid;
      const rotated = await svc.api.post('/api/admin/signing-keys', { token: before });
      assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
      assert.notEqual(rotated.body.kid, oldKid);
      const jwks = await svc.api.get('/.well-known/jwks.json');
      const kids = jwks.body.keys.map((k: { kid: string }) => k.kid);
      assert.ok(kids.includes(oldKid) && kids.includes(rotated.body.kid), `kids ${kids}`);
      const after = await adminToken();
      assert.equal(decodeProtectedHeader(after).kid, rotated.body.kid);
      assert.equal((await svc.api.get('/api/users/me', { token: before })).status, 200);
      assert.equal((await svc.api.get('/api/users/me', { token: after })).status, 200);
      const user = await svc.api.post('/api/admin/signing-keys', {
        token: (
          await svc.api.post('/api/auth/login', {
            body: await (async () => {
              const u = aUser();
              await svc.api.post('/api/auth/signup', { body: u });
              return { email: u.email, password: u.password };
            })(),
          })
        ).body.accessToken,
      });
      assert.equal(user.status, 403, 'only an admin rotates keys');
    });
  });
});
