import type { RequestHandler } from 'express';
import { z } from 'zod';
import { ProblemError } from './problem.ts';

const ORIGIN = /^https?:\/\/[^/\s]+$/;

/**
 * The browser origins allowed to call a service (the web page's, see web/): a comma-separated list of
 * `scheme://host[:port]`. `*` is refused: the page sends the fan's bearer token, and a wildcard would let any site
 * a signed-in fan visits read their reservations with it.
 */
export const corsOriginsSchema = z
  .string()
  .trim()
  .default('http://127.0.0.1:5173,http://localhost:5173')
  .transform((raw, ctx): string[] => {
    const list = raw === '' ? [] : raw.split(',').map((o) => o.trim().replace(/\/$/, ''));
    if (list.includes('*')) {
      ctx.addIssue({
        code: 'custom',
        message: 'a wildcard lets every website call the API with a fan’s token; list the page’s origins',
      });
      return z.NEVER;
    }
    const bad = list.filter((o) => !ORIGIN.test(o));
    if (bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `not an origin (scheme://host[:port]): ${bad.join(', ')}` });
      return z.NEVER;
    }
    return list;
  });

const ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'idempotency-key',
  'if-none-match',
  'traceparent',
  'x-admission-token',
  // The fan's signed place in a waiting room, shown when asking for it (ticket-service's …/queue/me, …/stream).
  'x-queue-ticket',
  'x-request-id',
].join(', ');
// What the page reads off answers: when to retry, the seat map's version, where a created resource lives.
const EXPOSED_HEADERS = 'Retry-After, ETag, Location, X-Request-Id';
const METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';

/**
 * CORS for the allowed origins only. Credentials (cookies) are never allowed: the page authenticates with a
 * bearer token it holds, so a request from an allowed origin carries nothing the browser adds on its own.
 */
export function cors(allowedOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);
  return (req, res, next) => {
    // On every answer, with an Origin or without: a shared cache (the edge in front of ticket-service) must keep a
    // server's or curl's answer, which carries no Access-Control-Allow-Origin, apart from a page's, or it would hand
    // the page an answer its browser refuses.
    res.vary('Origin');
    const origin = req.get('origin');
    if (origin === undefined) {
      next();
      return;
    }
    const preflight = req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined;
    if (!allowed.has(origin)) {
      if (preflight) {
        next(
          new ProblemError(
            403,
            'origin-not-allowed',
            'Origin not allowed',
            `${origin} may not call this API from a browser; add it to CORS_ORIGINS`,
          ),
        );
        return;
      }
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    if (!preflight) {
      res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Methods', METHODS);
    res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  };
}
