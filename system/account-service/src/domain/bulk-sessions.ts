import { TooManySessionsError, UnknownUsersError } from './account-errors.ts';

/**
 * User ids one bulk request may name. 500 UUIDs make a 20 KB body, inside the default HTTP_BODY_LIMIT (32 KB),
 * and 500 signatures take tens of milliseconds, so one request never holds the service long.
 */
export const MAX_SESSIONS_PER_REQUEST = 500;

/** The distinct ids asked for, in their order and canonical (lower-case) form; too many are refused at once. */
export function sessionsAsked(userIds: readonly string[]): string[] {
  if (userIds.length > MAX_SESSIONS_PER_REQUEST)
    throw new TooManySessionsError(userIds.length, MAX_SESSIONS_PER_REQUEST);
  return [...new Set(userIds.map((id) => id.toLowerCase()))];
}

/** The accounts asked for, in the order asked; refused whole if any id names no account. */
export function accountsForSessions<A extends { id: string }>(
  asked: readonly string[],
  found: readonly A[],
): A[] {
  const byId = new Map(found.map((account) => [account.id, account]));
  const unknown = asked.filter((id) => !byId.has(id));
  if (unknown.length > 0) throw new UnknownUsersError(unknown);
  return asked.map((id) => byId.get(id)!);
}
