import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { type Pool, type Queryable, withTransaction } from '@reservex/kit';
import type { SigningKey } from '../domain/access-tokens.ts';
import { open, seal } from '../domain/sealed-key.ts';

export interface PublishedKey extends JsonWebKey {
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

// Held while a key is created, so instances starting (or rotating) together agree on one.
const KEY_CREATION_LOCK = 72_410_002;

async function createKey(tx: Queryable, secret: string): Promise<SigningKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicJwk = publicKey.export({ format: 'jwk' });
  const kid = `ed25519-${new Date().toISOString().slice(0, 10)}-${(publicJwk.x ?? '').slice(0, 8)}`;
  await tx.query('INSERT INTO signing_keys (kid, sealed_private_key, public_jwk) VALUES ($1, $2, $3)', [
    kid,
    seal(JSON.stringify(privateKey.export({ format: 'jwk' })), secret, kid),
    publicJwk,
  ]);
  return { kid, privateKey };
}

/** The newest signing key; on first start, one is created. Keys stored in clear by older versions are sealed. */
export async function loadOrCreateSigningKey(pool: Pool, secret: string): Promise<SigningKey> {
  return withTransaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_CREATION_LOCK]);
    const clear = await tx.query<{ kid: string; private_jwk: JsonWebKey }>(
      'SELECT kid, private_jwk FROM signing_keys WHERE private_jwk IS NOT NULL',
    );
    for (const row of clear.rows) {
      await tx.query('UPDATE signing_keys SET sealed_private_key = $2, private_jwk = NULL WHERE kid = $1', [
        row.kid,
        seal(JSON.stringify(row.private_jwk), secret, row.kid),
      ]);
    }
    const newest = await tx.query<{ kid: string; sealed_private_key: string }>(
      'SELECT kid, sealed_private_key FROM signing_keys ORDER BY created_at DESC, kid DESC LIMIT 1',
    );
    const row = newest.rows[0];
    if (row === undefined) return createKey(tx, secret);
    const jwk = JSON.parse(open(row.sealed_private_key, secret, row.kid)) as JsonWebKey;
    return { kid: row.kid, privateKey: createPrivateKey({ key: jwk, format: 'jwk' }) };
  });
}

/** A new key becomes the one that signs; older keys stay published, so tokens they signed verify until expiry. */
export async function rotateSigningKey(pool: Pool, secret: string): Promise<SigningKey> {
  return withTransaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_CREATION_LOCK]);
    return createKey(tx, secret);
  });
}

/** Every key, newest first: tokens signed by a key before a rotation stay verifiable until they expire. */
export async function publishedKeys(db: Queryable): Promise<PublishedKey[]> {
  const { rows } = await db.query<{ kid: string; public_jwk: JsonWebKey }>(
    'SELECT kid, public_jwk FROM signing_keys ORDER BY created_at DESC, kid DESC',
  );
  return rows.map((r) => {
    // Re-export through KeyObject so only public members can ever be published.
    const jwk = createPublicKey({ key: r.public_jwk, format: 'jwk' }).export({ format: 'jwk' });
    return { ...jwk, kid: r.kid, alg: 'EdDSA', use: 'sig' };
  });
}
