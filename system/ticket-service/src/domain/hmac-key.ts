import { webcrypto } from 'node:crypto';

/**
 * The waiting room's HMAC key (HS256), imported into WebCrypto once. Handed to jose as raw bytes, the key was
 * imported again at every signature and every check: about 5% of a ticket-service replica's busy time in a profiled
 * scale-out sale, where every fan near the front shows a signed ticket at each look and every booking an admission
 * token.
 */
export function hmacKey(secret: string): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );
}
