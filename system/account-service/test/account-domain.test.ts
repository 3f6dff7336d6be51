import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '@reservex/kit';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { newRefreshSecret, signAccessToken } from '../src/domain/access-tokens.ts';
import {
  EmailTakenError,
  InvalidCredentialsError,
  InvalidRefreshTokenError,
  RefreshTokenReusedError,
} from '../src/domain/account-errors.ts';
import { normalizeEmail } from '../src/domain/email.ts';
import { hashPassword, verifyPassword } from '../src/domain/password.ts';
import { decideRefresh } from '../src/domain/refresh-token-rotation.ts';
import { open, SealBroken, seal } from '../src/domain/sealed-key.ts';

/** account-service's domain, alone: no server, no database. */
describe('account domain (pure)', () => {
  it('answers each refusal with its status, type and detail; every 401 asks for a bearer token', () => {
    const shape = (e: EmailTakenError | InvalidCredentialsError) => ({
      status: e.status,
      slug: e.type.split('/').at(-1),
      title: e.title,
      detail: e.message,
      challenge: e.headers['WWW-Authenticate'],
    });
    assert.deepEqual(shape(new EmailTakenError()), {
      status: 409,
      slug: 'email-taken',
      title: 'Email already registered',
      detail: 'An account with this email already exists',
      challenge: undefined,
    });
    assert.deepEqual(shape(new InvalidCredentialsError()), {
      status: 401,
      slug: 'invalid-credentials',
      title: 'Unauthorized',
      detail: 'Email or password is wrong',
      challenge: 'Bearer',
    });
    assert.deepEqual(shape(new InvalidRefreshTokenError('expired')).slug, 'invalid-refresh-token');
    const reused = new RefreshTokenReusedError();
    assert.ok(reused instanceof InvalidRefreshTokenError);
    assert.deepEqual(shape(reused), {
      status: 401,
      slug: 'refresh-token-reused',
      title: 'Unauthorized',
      detail: 'This refresh token was already used; every session it belonged to is now signed out',
      challenge: 'Bearer',
    });
  });

  it('an email address is one mailbox whatever its case and surrounding spaces', () => {
    assert.equal(normalizeEmail('  Fan.One@Example.TEST '), 'fan.one@example.test');
  });

  describe('refresh-token rotation', () => {
    const now = new Date('2026-11-30T12:00:00Z');
    const fresh = { usedAt: null, revokedAt: null, expiresAt: new Date('2026-12-01T00:00:00Z') };
    it('rotates a fresh token once', () => assert.equal(decideRefresh(fresh, now), 'rotate'));
    it('a second use is reuse, whatever else holds', () =>
      assert.equal(decideRefresh({ ...fresh, usedAt: now }, now), 'reuse-detected'));
    it('a revoked token is revoked, even if also used', () =>
      assert.equal(decideRefresh({ ...fresh, usedAt: now, revokedAt: now }, now), 'revoked'));
    it('expires at its instant, not a moment later', () => {
      assert.equal(decideRefresh({ ...fresh, expiresAt: now }, now), 'expired');
      assert.equal(decideRefresh({ ...fresh, expiresAt: new Date(now.getTime() + 1) }, now), 'rotate');
    });
  });

  describe('passwords', () => {
    const cost = { log2N: 4, r: 1, p: 1 };
    it('verify against their own hash only, and the hash carries its cost', async () => {
      const hash = await hashPassword('lightstick-2026!', cost);
      assert.match(hash, /^scrypt\$ln=4,r=1,p=1\$[\w-]+\$[\w-]+$/);
      assert.equal(await verifyPassword('lightstick-2026!', hash), true);
      assert.equal(await verifyPassword('lightstick-2026?', hash), false);
      assert.notEqual(await hashPassword('lightstick-2026!', cost), hash, 'salted: two hashes differ');
    });
    it('compare in Unicode normal form: the same password typed two ways verifies', async () => {
      const hash = await hashPassword('caf\u00e9', cost);
      assert.equal(await verifyPassword('cafe\u0301', hash), true);
    });
    it('refuse a malformed or truncated hash rather than throw', async () => {
      assert.equal(await verifyPassword('x', 'plaintext'), false);
      const hash = await hashPassword('x', cost);
      assert.equal(await verifyPassword('x', hash.slice(0, -4)), false);
    });
  });

  describe('sealed signing keys', () => {
    it('open with the same secret and key id, and with nothing else', () => {
      const sealed = seal('private key material', 'kek-1', 'key-a');
      assert.equal(open(sealed, 'kek-1', 'key-a'), 'private key material');
      assert.throws(() => open(sealed, 'kek-2', 'key-a'), SealBroken);
      assert.throws(() => open(sealed, 'kek-1', 'key-b'), SealBroken, 'a sealed key copied onto another row');
      assert.throws(() => open(`v2${sealed.slice(2)}`, 'kek-1', 'key-a'), /not a sealed key/);
      assert.throws(() => open('v1.only-two', 'kek-1', 'key-a'), /not a sealed key/);
    });
    it('never produce the same ciphertext twice', () => {
      assert.notEqual(seal('k', 's', 'id'), seal('k', 's', 'id'));
    });
  });

  it('access tokens carry who, their roles, issuer, audience, key id and lifetime', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const token = await signAccessToken(
      { kid: 'k1', privateKey },
      { id: 'user-1', email: 'fan@example.test', roles: ['user'] },
      900,
    );
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'EdDSA', kid: 'k1', typ: 'JWT' });
    const { payload } = await jwtVerify(token, publicKey, {
      issuer: ACCESS_TOKEN_ISSUER,
      audience: ACCESS_TOKEN_AUDIENCE,
    });
    assert.equal(payload.sub, 'user-1');
    assert.equal(payload.email, 'fan@example.test');
    assert.deepEqual(payload.roles, ['user']);
    assert.equal(payload.exp! - payload.iat!, 900);
    assert.equal(typeof payload.jti, 'string');
  });

  it('refresh secrets are opaque, prefixed and long enough', () => {
    const a = newRefreshSecret();
    assert.match(a, /^rt_[\w-]{43}$/);
    assert.notEqual(a, newRefreshSecret());
  });
});
