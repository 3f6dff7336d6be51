import type { Targets } from '@reservex/stack';
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
