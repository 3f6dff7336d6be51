import { injectTraceContext } from '@reservex/kit';
import { Agent, request } from 'undici';
import type { Recorder } from '../run/recorder.ts';
import { PipelinedGets } from './pipelined-gets.ts';
import { RequestGate } from './request-gate.ts';

/** How a connection closing under a request shows: undici's own word for it, or the socket's reset. */
const CLOSED_UNDER = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

export interface Reply<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Keep-alive connection pools for the whole load generator, on undici: one for fans signing in, one for fans
 * arriving (queue joins), one for fans already in the queue (their polls), one for everything an admitted fan does.
 * A fan's own browser has its own connections, and a server reads every connection in turn; one pool is one
 * first-come queue for the whole crowd instead.
 * - With one pool, the opening's herd of polls queued ahead of the admitted fans' seat-map reads and bookings (at
 *   200,000 fans they never reached the server).
 * - With joins and polls in one, the herd of 200,000 joins held every joined fan's first poll back for a minute,
 *   past the heartbeat grace, and 18,547 fans were dropped as gone at their turn.
 * - With sign-ins and bookings in one, the arriving herd's logins (a password hash each) held the admitted fans'
 *   bookings back for about 25 s at scale-out's opening, and admissions lapsed unused.
 * The waiting crowd's GETs (a million fans' looks at the edge and the front window's at the origin) go pipelined
 * over a few connections instead (pipelined-gets.ts): through undici the generator could not keep up with them.
 * Every answer is counted by status, so the report can say what the crowd saw.
 */
export function httpClient(recorder: Recorder, connections = 256) {
  const pool = () => ({
    agent: new Agent({ connections, keepAliveTimeout: 30_000, pipelining: 1 }),
    // Every connection busy and as many requests again ready to go: more, queued in the client, only weigh.
    gate: new RequestGate(2 * connections),
  });
  const [signingIn, arriving, waiting, booking] = [pool(), pool(), pool(), pool()];
  // One per origin (the edge, ticket-service): as many connections as a pool has in flight, 16 deep each.
  const pipelines = new Map<string, PipelinedGets>();
  const pipelineTo = (origin: string) => {
    let pipeline = pipelines.get(origin);
    if (pipeline === undefined) {
      pipeline = new PipelinedGets(origin, recorder, Math.max(1, Math.ceil(connections / 16)), 16);
      pipelines.set(origin, pipeline);
    }
    return pipeline;
  };
  const poolFor = (method: string, url: string) => {
    if (/\/api\/auth\//.test(url)) return signingIn;
    if (/\/queue(\/|$|\?)/.test(url)) return method === 'POST' ? arriving : waiting;
    return booking;
  };
  async function send<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    options: {
      body?: unknown;
      token?: string;
      headers?: Record<string, string>;
      /** The API answers a repeat of this request as the first (a join: one place per fan, the same one again). */
      idempotent?: boolean;
    } = {},
  ): Promise<Reply<T>> {
    // The fan's booking trace, when one is active, goes on every request it makes.
    const headers: Record<string, string> = injectTraceContext({ ...options.headers });
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const pool = poolFor(method, url);
    if (method === 'GET' && pool === waiting) {
      const { origin, pathname, search } = new URL(url);
      return pipelineTo(origin).get<T>(pathname + search, headers);
    }
    const { agent, gate } = pool;
    const sent = () =>
      request(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        dispatcher: agent,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
    try {
      return await gate.run(async () => {
        const res = await sent().catch((error: Error & { code?: string }) => {
          // The connection closed (or was reset) under the request: most often a kept-alive one the server closed for
          // being idle as the request went out on it. A GET is idempotent, and so is a request with an
          // Idempotency-Key (a booking: the server answers a repeat with the first answer), or one the caller says
          // the API treats as a repeat, so it is sent once more, on a fresh connection, as browsers do (RFC 9112,
          // 9.3.1); anything else is the caller's to judge.
          const idempotent =
            method === 'GET' ||
            options.idempotent === true ||
            options.headers?.['idempotency-key'] !== undefined;
          if (!idempotent || !CLOSED_UNDER.has(error.code ?? '')) throw error;
          recorder.closedKeepAliveRetries++;
          return sent();
        });
        recorder.countHttp(res.statusCode, res.headers['retry-after'] !== undefined);
        const text = await res.body.text();
        const type = String(res.headers['content-type'] ?? '');
        return {
          status: res.statusCode,
          headers: res.headers,
          body: (type.includes('json') && text ? JSON.parse(text) : text) as T,
        };
      });
    } catch (error) {
      recorder.countHttp('network-error');
      recorder.error(`${method} ${url}: ${(error as Error).message}`);
      return { status: 0, headers: {}, body: undefined as T };
    }
  }
  return {
    get: <T>(url: string, o?: Parameters<typeof send>[2]) => send<T>('GET', url, o),
    post: <T>(url: string, o?: Parameters<typeof send>[2]) => send<T>('POST', url, o),
    put: <T>(url: string, o?: Parameters<typeof send>[2]) => send<T>('PUT', url, o),
    patch: <T>(url: string, o?: Parameters<typeof send>[2]) => send<T>('PATCH', url, o),
    del: <T>(url: string, o?: Parameters<typeof send>[2]) => send<T>('DELETE', url, o),
    close: async () => {
      for (const pipeline of pipelines.values()) pipeline.close();
      await Promise.all([signingIn, arriving, waiting, booking].map((p) => p.agent.close()));
    },
  };
}

export type HttpClient = ReturnType<typeof httpClient>;
