import { type AccessTokenVerifier, authenticate, parseInput, requireRole } from '@reservex/kit';
import type { Express, Request, Response } from 'express';
import type { EventUseCases } from '../use-cases/events.ts';
import type { SeatMapSnapshot, SeatMaps } from '../use-cases/seat-maps.ts';
import { idParam, listQuery, newEventBody } from './schemas.ts';

export function eventRoutes(deps: {
  verify: AccessTokenVerifier;
  events: EventUseCases;
  seatMaps: SeatMaps;
}) {
  const { verify, events, seatMaps } = deps;
  return (app: Express) => {
    app.post('/api/events', authenticate(verify), requireRole('admin'), async (req, res) => {
      const event = await events.create(parseInput(newEventBody, req.body));
      res.status(201).location(`/api/events/${event.id}`).json(event);
    });

    app.get('/api/events', async (req, res) => {
      const { limit } = parseInput(listQuery, req.query);
      res.json(await events.list(limit));
    });

    app.get('/api/events/:id', async (req, res) => {
      const { id } = parseInput(idParam, req.params);
      res.json(await events.get(id));
    });

    /** A snapshot of the seat map under its ETag: 304 when the caller holds it, else `send`. */
    const snapshotRoute =
      (
        etagOf: (snapshot: SeatMapSnapshot) => string,
        send: (res: Response, snapshot: SeatMapSnapshot) => void,
      ) =>
      async (req: Request, res: Response) => {
        const { id } = parseInput(idParam, req.params);
        await events.get(id);
        const snapshot = await seatMaps.get(id);
        const etag = etagOf(snapshot);
        res.setHeader('ETag', etag);
        res.setHeader('X-Seat-Map-Version', String(snapshot.version));
        res.setHeader('Cache-Control', 'no-cache');
        if (req.get('if-none-match') === etag) {
          res.status(304).end();
          return;
        }
        send(res, snapshot);
      };

    app.get(
      '/api/events/:id/seats',
      snapshotRoute(
        (snapshot) => snapshot.etag,
        (res, snapshot) => res.type('application/json').send(snapshot.body),
      ),
    );

    // The map's statuses alone, for a client that holds the map: 50,000 letters where the map is 6 MB.
    app.get(
      '/api/events/:id/seats/availability',
      snapshotRoute(
        ({ version }) => `"statuses-${version}"`,
        (res, { version, statuses }) => res.json({ version, statuses }),
      ),
    );
  };
}
