/** The signed-in fan, kept per tab (sessionStorage): a reload keeps it, another tab signs in on its own. */
export interface Session {
  accessToken: string;
  refreshToken: string;
  userId: string;
  email: string;
  name: string;
  roles: string[];
}

const KEY = 'reservex.session';
const listeners = new Set<(s: Session | undefined) => void>();

export function currentSession(): Session | undefined {
  const raw = sessionStorage.getItem(KEY);
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as Session;
  } catch {
    sessionStorage.removeItem(KEY);
    return undefined;
  }
}

export function saveSession(session: Session | undefined): void {
  if (session === undefined) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, JSON.stringify(session));
  for (const listener of listeners) listener(session);
}

export function onSessionChange(listener: (s: Session | undefined) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export const isAdmin = (s: Session | undefined) => s?.roles.includes('admin') === true;
