import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

// v1.<iv>.<tag>.<ciphertext>, base64url. The key id is authenticated data: a sealed key copied onto another
// row does not open.
const VERSION = 'v1';

function keyFrom(secret: string): Buffer {
  return createHash('sha256').update(`reservex signing-key seal|${secret}`).digest();
}

export function seal(plaintext: string, secret: string, keyId: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFrom(secret), iv);
  cipher.setAAD(Buffer.from(keyId));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv, cipher.getAuthTag(), body]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

export class SealBroken extends Error {}

export function open(sealed: string, secret: string, keyId: string): string {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== VERSION || iv === undefined || tag === undefined || body === undefined)
    throw new SealBroken(`signing key ${keyId}: not a sealed key this service can read`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFrom(secret), Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(keyId));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new SealBroken(`signing key ${keyId} does not open with this KEY_ENCRYPTION_KEY`);
  }
}
