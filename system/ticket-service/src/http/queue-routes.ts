import { createHash } from 'node:crypto';
import {
  type AccessTokenVerifier,
  authenticate,
  NotFoundProblem,
  parseInput,
  requireRole,
} from '@reservex/kit';
import type { Express, Request } from 'express';
import type { QueueUpdates } from '../use-cases/queue-updates.ts';
import type { WaitingRoom } from '../use-cases/waiting-room.ts';
import { idParam, queueChangeBody } from './schemas.ts';

const HEARTBEAT_MS = 15_000;

/** The fan's signed place in line, as their join gave it. */
const queueTicketOf = (req: Request) => req.get('x-queue-ticket') ?? undefined;

/**
 * The shared status's caching: a second at the edge and in browsers, served stale for a second more while the
 * edge refreshes, so the origin sees about one request a second per edge, however many fans read it. A pause or a
 * sellout reaches every reader within that.
 */
const SHARED_CACHE = 'public, max-age=1, s-maxage=1, stale-while-revalidate=1';

export function queueRoutes(deps: { verify: AccessTokenVerifier; room: WaitingRoom; updates: QueueUpdates }) {
  const { verify, room, updates } = deps;
  const signedIn = authenticate(verify);
  return (app: Express) => {
    app.post('/api/events/:id/queue', signedIn, async (req, res) => {
      const { id } = parseInput(idParam, req.params);
      const { fresh, ...joined } = await room.join(res.locals.principal, id, req.ip ?? 'unknown');
      res.setHeader('Retry-After', String(joined.pollAfterSeconds));
      res.setHeader('Cache-Control', 'no-store');
      res.status(fresh ? 201 : 200).json(joined);
    });

    // What every waiting fan needs, the same for all: no sign-in, and cacheable, so an edge serves it.
    app.get('/api/events/:id/queue/status', async (req, res) => {
      const { id } = parseInput(idParam, req.params);
      const body = JSON.stringify(await room.sharedStatus(id));
      const etag = `W/"${createHash('sha1').update(body).digest('base64url')}"`;
      res.setHeader('Cache-Control', SHARED_CACHE);
      res.setHeader('ETag', etag);
      if (req.get('if-none-match') === etag) return void res.status(304).end();
      res.type('application/json').send(body);
    });

    app.get('/api/events/:id/queue', async (req, res) => {
      const { id } = parseInput(idParam, req.params);
      res.json(await room.state(id));
    });

    app.patch('/api/events/:id/queue', signedIn, requireRole('admin'), async (req, res) => {
      const { id } = parseInput(idParam, req.params);
      await room.change(id, parseInput(queueChangeBody, req.body));
      res.json(await room.state(id));
    });

    app.get('/api/events/:id/queue/me', signedIn, async (req, res) => {
      const { id } = parseInput(idParam, req.params);
      const status = await room.status(res.locals.principal, id, queueTicketOf(req));
      if (status === undefined) throw new NotFoundProblem('You are not in this queue: join it first');
      const { number: _, ...mine } = status;
      res.setHeader('Retry-After', String(mine.pollAfterSeconds));
      res.setHeader('Cache-Control', 'no-store');
      res.json(mine);
    });

    app.get('/api/events/:id/queue/stream', signedIn, async (req, res) => {
      const { id } = parseInput(idParam, req.params);
      const first = await room.status(res.locals.principal, id, queueTicketOf(req));
      if (first === undefined) throw new NotFoundProblem('You are not in this queue: join it first');
      const { number, ...mine } = first;
      res.writeHead(200, {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-store',
        Connection: 'keep-alive',
      });
      const send = (event: string, data: unknown) =>
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      res.write('retry: 3000\n');
      send(mine.state === 'waiting' ? 'position' : mine.state, mine);
      const unsubscribe = updates.subscribe(id, res.locals.principal.userId, number, mine, {
        send,
        close: () => res.end(),
      });
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      req.on('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
      });
    });
  };
}
