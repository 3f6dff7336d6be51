import {
  type AccessTokenVerifier,
  authenticate,
  NotFoundProblem,
  parseInput,
  requireRole,
} from '@reservex/kit';
import type { Express } from 'express';
import type { QueueUpdates } from '../use-cases/queue-updates.ts';
import type { WaitingRoom } from '../use-cases/waiting-room.ts';
import { idParam, queueChangeBody } from './schemas.ts';

const HEARTBEAT_MS = 15_000;

export function queueRoutes(deps: { verify: AccessTokenVerifier; room: WaitingRoom; updates: QueueUpdates }) {
  const { verify, room, updates } = deps;
  const signedIn = authenticate(verify);
  return (app: Express) => {
    app.post('/api/events/:id/queue', signedIn, async (req, res) => {
      const { id } = parseInput(idParam, req.params);
      const joined = await room.join(res.locals.principal, id, req.ip ?? 'unknown');
      res.setHeader('Retry-After', String(joined.pollAfterSeconds));
      res.status(201).json(joined);
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
      const status = await room.status(res.locals.principal, id);
      if (status === undefined) throw new NotFoundProblem('You are not in this queue: join it first');
      res.setHeader('Retry-After', String(status.pollAfterSeconds));
      res.setHeader('Cache-Control', 'no-store');
      res.json(status);
    });

    app.get('/api/events/:id/queue/stream', signedIn, async (req, res) => {
      const { id } = parseInput(idParam, req.params);
      const first = await room.status(res.locals.principal, id);
      if (first === undefined) throw new NotFoundProblem('You are not in this queue: join it first');
      res.writeHead(200, {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-store',
        Connection: 'keep-alive',
      });
      const send = (event: string, data: unknown) =>
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      res.write('retry: 3000\n');
      send(first.state === 'waiting' ? 'position' : first.state, first);
      const unsubscribe = updates.subscribe(id, res.locals.principal.userId, first, {
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
