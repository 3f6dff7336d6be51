import { createHash } from 'node:crypto';
import type { Queryable } from '@reservex/kit';
import type { RefreshTokenRecord } from '../domain/refresh-token-rotation.ts';

export interface StoredRefreshToken extends RefreshTokenRecord {
  id: string;
  familyId: string;
  userId: string;
}

export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export async function insertRefreshToken(
  db: Queryable,
  token: { familyId: string; userId: string; secret: string; expiresAt: Date },
): Promise<void> {
  await db.query(
    'INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)',
    [token.familyId, token.userId, hashRefreshToken(token.secret), token.expiresAt],
  );
}

/** Locks the row: two concurrent refreshes with one token must see each other, or both would rotate. */
export async function lockRefreshToken(
  db: Queryable,
  secret: string,
): Promise<StoredRefreshToken | undefined> {
  const { rows } = await db.query<{
    id: string;
    family_id: string;
    user_id: string;
    used_at: Date | null;
    revoked_at: Date | null;
    expires_at: Date;
  }>('SELECT * FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE', [hashRefreshToken(secret)]);
  const r = rows[0];
  if (r === undefined) return undefined;
  return {
    id: r.id,
    familyId: r.family_id,
    userId: r.user_id,
    usedAt: r.used_at,
    revokedAt: r.revoked_at,
    expiresAt: r.expires_at,
  };
}

export async function markRefreshTokenUsed(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE refresh_tokens SET used_at = now() WHERE id = $1', [id]);
}

export async function revokeFamily(db: Queryable, familyId: string): Promise<void> {
  await db.query('UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL', [
    familyId,
  ]);
}

export async function revokeAllForUser(db: Queryable, userId: string): Promise<void> {
  await db.query('UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [
    userId,
  ]);
}
