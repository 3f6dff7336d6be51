import { config } from './config.ts';
import { currentSession, type Session, saveSession } from './session.ts';

/** An RFC 9457 problem the API answered, or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  /** The last segment of the problem's `type` URI, e.g. `seat-unavailable`. */
  readonly kind: string;
  readonly retryAfterSeconds: number | undefined;
  readonly errors: Array<{ pointer?: string; detail?: string }>;

  constructor(
    status: number,
    kind: string,
    detail: string,
    retryAfterSeconds?: number,
    errors: Array<{ pointer?: string; detail?: string }> = [],
  ) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.kind = kind;
    this.retryAfterSeconds = retryAfterSeconds;
    this.errors = errors;
  }
}

/** `edge` is the cache in front of ticket-service: only what every fan shares is read there, never signed in. */
type Service = 'account' | 'ticket' | 'payment' | 'edge';

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** False for calls made before signing in. */
  auth?: boolean;
  signal?: AbortSignal;
}

async function problemOf(res: Response): Promise<ApiError> {
  const retry = res.headers.get('retry-after');
  const retryAfter = retry === null ? undefined : Number(retry);
  let body: { type?: string; detail?: string; title?: string; errors?: ApiError['errors'] } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const kind = body.type?.split('/').pop() ?? `http-${res.status}`;
  return new ApiError(
    res.status,
    kind,
    body.detail ?? body.title ?? res.statusText,
    Number.isFinite(retryAfter) ? retryAfter : undefined,
    body.errors,
  );
}

let refreshing: Promise<Session | undefined> | undefined;

/** Swaps the refresh token for a new pair once, however many calls found the access token expired at once. */
async function refreshSession(session: Session): Promise<Session | undefined> {
  refreshing ??= (async () => {
    try {
      const res = await fetch(`${config().account}/api/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: session.refreshToken }),
      });
      if (!res.ok) {
        saveSession(undefined);
        return undefined;
      }
      const pair = (await res.json()) as { accessToken: string; refreshToken: string };
      const next = { ...session, ...pair };
      saveSession(next);
      return next;
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

export async function rawRequest(
  service: Service,
  path: string,
  options: RequestOptions = {},
): Promise<Response> {
  // A signed-in request is a fan's own: the edge would pass it to the origin uncached (and the browser would ask
  // the edge's CORS first). What the edge serves is the same for everyone, so it is read without a token.
  const session = options.auth === false || service === 'edge' ? undefined : currentSession();
  const send = (s: Session | undefined) =>
    fetch(`${config()[service]}${path}`, {
      method: options.method ?? 'GET',
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(s === undefined ? {} : { authorization: `Bearer ${s.accessToken}` }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  let res: Response;
  try {
    res = await send(session);
    if (res.status === 401 && session !== undefined) {
      const renewed = await refreshSession(session);
      if (renewed !== undefined) res = await send(renewed);
    }
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'network', (error as Error).message);
  }
  return res;
}

/** One JSON call; a non-2xx answer throws its problem as an ApiError. */
export async function request<T>(service: Service, path: string, options: RequestOptions = {}): Promise<T> {
  const res = await rawRequest(service, path, options);
  if (!res.ok) throw await problemOf(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export { problemOf };
