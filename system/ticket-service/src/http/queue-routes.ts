import {
  type AccessTokenVerifier,
  authenticate,
  NotFoundProblem,
  parseInput,
  requireRole,
} from '@reservex/kit';
import type { Express, Response } from 'express';
import { z } from 'zod';
import { pollAfterSeconds, queueView } from '../domain/queue-view.ts';
import type { AdmissionTicker } from '../waiting-room/admission-ticker.ts';
import type { WaitingRoom } from '../waiting-room/waiting-room.ts';
import { idParam } from './schemas.ts';

export const queueChangeBody = z
  .strictObject({
    admitPerSecond: z.number().int().min(1).max(100_000).optional(),
    maxActive: z.number().int().min(1).max(1_000_000).optional(),
    paused: z.boolean().optional(),
    drain: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, {
    message: 'name at least one of admitPerSecond, maxActive, paused, drain',
  });

const HEARTBEAT_MS = 15_000;

export function queueRoutes(deps: {
  verify: AccessTokenVerifier;
  room: WaitingRoom;
  ticker: AdmissionTicker;
}) {
  const { verify, room, ticker } = deps;
  const signedIn = authenticate(verify);
  // One set of open streams per event; each tick's serving counter is written to all of them.
  const streams = new Map<
    string,
    Set<{ res: Response; userId: string; ticket: number; admittedSent: boolean }>
  >();

  ticker.onProgress((eventId, progress) => {
    const open = streams.get(eventId);
    if (open === undefined) return;
    for (const s of open) {
      ticker.seen(eventId, s.userId);
      if (s.ticket === 0 && progress.lastTicket > 0) {
        // The pre-queue was shuffled at the opening: once, learn where this user landed.
        s.ticket = -1;
        void room
          .ticketOf(eventId, s.userId)
          .then((t) => {
            s.ticket = t ?? 0;
          })
          .catch(() => s.res.end());
        continue;
      }
      if (s.ticket < 0) continue;
      if (s.ticket > 0 && s.ticket <= progress.served) {
        if (!s.admittedSent) {
          s.admittedSent = true;
          // The turn has come: this user's one Redis lookup, for their token.
          void room
            .status({ userId: s.userId, email: '', roles: ['user'] }, eventId)
            .then((v) => s.res.write(`event: ${v?.state ?? 'expired'}\ndata: ${JSON.stringify(v ?? {})}\n\n`))
            .catch(() => s.res.end());
        }
        continue;
      }
      const view = queueView(s.ticket, progress.served, false, progress.rate);
      s.res.write(`event: position\ndata: ${JSON.stringify(view)}\n\n`);
    }
  });

  return (app: Express) => {
    app.post('/api/events/:id/queue', signedIn, async (req, res) => {
      const { id } = parseInput(idParam, req.params);
      const joined = await room.join(res.locals.principal, id, req.ip ?? 'unknown');
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
      const view = await room.status(res.locals.principal, id);
      if (view === undefined) throw new NotFoundProblem('You are not in this queue: join it first');
      res.setHeader('Retry-After', String(pollAfterSeconds(view)));
      res.setHeader('Cache-Control', 'no-store');
      res.json(view);
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
      res.write(
        `retry: 3000\nevent: ${first.state === 'waiting' ? 'position' : first.state}\ndata: ${JSON.stringify(first)}\n\n`,
      );
      const ticketNumber =
        first.state === 'waiting' && first.position !== null
          ? (ticker.progress(id)?.served ?? 0) + first.position
          : 0;
      const stream = {
        res,
        userId: res.locals.principal.userId,
        ticket: ticketNumber,
        admittedSent: first.state !== 'waiting',
      };
      let open = streams.get(id);
      if (open === undefined) {
        open = new Set();
        streams.set(id, open);
      }
      open.add(stream);
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      req.on('close', () => {
        clearInterval(heartbeat);
        open.delete(stream);
      });
    });
  };
}
