export interface RefreshTokenRecord {
  usedAt: Date | null;
  revokedAt: Date | null;
  expiresAt: Date;
}

export type RefreshDecision = 'rotate' | 'reuse-detected' | 'revoked' | 'expired';

/**
 * Rotation with reuse detection (OAuth 2.0 Security BCP, section 4.14): a refresh token works once. A second use
 * means two parties hold it, and the legitimate one cannot be told apart, so the caller revokes the whole family.
 */
export function decideRefresh(token: RefreshTokenRecord, now: Date): RefreshDecision {
  if (token.revokedAt !== null) return 'revoked';
  if (token.usedAt !== null) return 'reuse-detected';
  if (token.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'rotate';
}
