import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_SESSIONS_PER_REQUEST } from '@reservex/account-service';
import type { Targets } from '@reservex/stack';
import { inBatches } from '../run/in-batches.ts';
import type { FanAccount } from './fan-accounts.ts';
import type { HttpClient } from './http-client.ts';

/** Signs a user in over the account service's API and returns the access token. */
export async function signIn(http: HttpClient, accountUrl: string, email: string, password: string) {
  const res = await http.post<{ accessToken: string }>(`${accountUrl}/api/auth/login`, {
    body: { email, password },
  });
  if (res.status !== 200) throw new SignInError(email, res.status);
  return res.body.accessToken;
}

export class SignInError extends Error {
  readonly status: number;
  constructor(email: string, status: number) {
    super(`login of ${email} failed with ${status}`);
    this.status = status;
  }
}

/** The target's admin, who creates events and sets payment faults. */
export async function adminToken(t: Targets, http: HttpClient): Promise<string> {
  try {
    return await signIn(http, t.account, t.adminEmail, t.adminPassword);
  } catch (error) {
    if (!(error instanceof SignInError)) throw error;
    throw new Error(
      `admin login failed with ${error.status}: set ADMIN_EMAIL and ADMIN_PASSWORD for the target`,
    );
  }
}

interface MintedSessions {
  sessions: { userId: string; accessToken: string; expiresIn: number }[];
}

/** Answers worth asking again: the service shedding load or away for a moment, or the connection lost (0). */
const TRANSIENT = new Set([0, 429, 503]);

/**
 * Fills every fan's access token through account-service's bulk path (POST /api/admin/sessions), in batches of
 * the most one request may name, `inFlight` at a time. A million logins would cost a password hash each and
 * minutes of the service's CPU; a minted token is the one a login gives (same key, claims, roles and lifetime),
 * and ticket-service verifies it exactly as any other. The path is admin-only and off unless the service runs
 * with BULK_SESSIONS_ENABLED=true, which production refuses (the stack switches it on for load runs). Fans
 * without an account's id, or a batch refused for anything but a passing overload, fail the whole call.
 */
export async function mintSessions(
  http: HttpClient,
  targets: Targets,
  adminToken: string,
  fans: readonly FanAccount[],
  { inFlight = 4, attempts = 5 } = {},
): Promise<void> {
  const batches: FanAccount[][] = [];
  for (let i = 0; i < fans.length; i += MAX_SESSIONS_PER_REQUEST)
    batches.push(fans.slice(i, i + MAX_SESSIONS_PER_REQUEST));
  await inBatches(batches, inFlight, async (batch) => {
    for (let attempt = 1; ; attempt++) {
      const res = await http.post<MintedSessions>(`${targets.account}/api/admin/sessions`, {
        token: adminToken,
        body: { userIds: batch.map((fan) => fan.userId) },
      });
      if (res.status === 200) {
        const tokens = new Map(res.body.sessions.map((s) => [s.userId, s.accessToken]));
        for (const fan of batch) {
          fan.accessToken = tokens.get(fan.userId);
          if (fan.accessToken === undefined) throw new Error(`no session minted for fan ${fan.index}`);
        }
        return;
      }
      if (TRANSIENT.has(res.status) && attempt < attempts) {
        await sleep(200 * attempt);
        continue;
      }
      throw new MintSessionsError(res.status, res.body);
    }
  });
}

export class MintSessionsError extends Error {
  readonly status: number;
  constructor(status: number, problem: unknown) {
    const off = status === 404 ? ': switch it on with BULK_SESSIONS_ENABLED=true (never in production)' : '';
    super(`minting sessions in bulk failed with ${status}${off} ${JSON.stringify(problem)}`);
    this.status = status;
  }
}
