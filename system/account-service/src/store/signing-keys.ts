import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { type Pool, withTransaction } from '@reservex/kit';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
}

export interface PublishedKey extends JsonWebKey {
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

// Held while the first instance creates the key, so instances starting together agree on one.
const KEY_CREATION_LOCK = 72_410_002;

/** Loads the newest Ed25519 signing key, creating one on first start. */
export async function loadOrCreateSigningKey(pool: Pool): Promise<SigningKey> {
  return withTransaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_CREATION_LOCK]);
    const existing = await tx.query<{ kid: string; private_jwk: JsonWebKey }>(
      'SELECT kid, private_jwk FROM signing_keys ORDER BY created_at DESC LIMIT 1',
    );
    const row = existing.rows[0];
    if (row !== undefined)
      return { kid: row.kid, privateKey: createPrivateKey({ key: row.private_jwk, format: 'jwk' }) };
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const publicJwk = publicKey.export({ format: 'jwk' });
    const kid = `ed25519-${new Date().toISOString().slice(0, 10)}-${(publicJwk.x ?? '').slice(0, 8)}`;
    await tx.query('INSERT INTO signing_keys (kid, private_jwk, public_jwk) VALUES ($1, $2, $3)', [
      kid,
      privateKey.export({ format: 'jwk' }),
      publicJwk,
    ]);
    return { kid, privateKey };
  });
}

/** Every key, newest first: tokens signed by a key before a rotation stay verifiable until they expire. */
export async function publishedKeys(pool: Pool): Promise<PublishedKey[]> {
  const { rows } = await pool.query<{ kid: string; public_jwk: JsonWebKey }>(
    'SELECT kid, public_jwk FROM signing_keys ORDER BY created_at DESC',
  );
  return rows.map((r) => {
    // Re-export through KeyObject so only public members can ever be published.
    const jwk = createPublicKey({ key: r.public_jwk, format: 'jwk' }).export({ format: 'jwk' });
    return { ...jwk, kid: r.kid, alg: 'EdDSA', use: 'sig' };
  });
}
