import { type AccessTokenVerifier, authenticate, parseInput, requireRole } from '@reservex/kit';
import type { Express } from 'express';
import type { EventCatalog } from '../event-catalog.ts';
import type { ReservationUseCases } from '../reservations.ts';
import type { SeatMapCache } from '../seat-map-cache.ts';
import type { WaitingRoom } from '../waiting-room/waiting-room.ts';
import { idempotencyKey, idParam, listQuery, newEventBody, reserveBody } from './schemas.ts';

export function ticketRoutes(deps: {
  verify: AccessTokenVerifier;
  catalog: EventCatalog;
  reservations: ReservationUseCases;
  seatMaps: SeatMapCache;
  room: WaitingRoom;
}) {
  const { verify, catalog, reservations, seatMaps, room } = deps;
  const signedIn = authenticate(verify);
  return (app: Express) => {
    app.post('/api/events', signedIn, requireRole('admin'), async (req, res) => {
      const event = await catalog.create(parseInput(newEventBody, req.body));
      res.status(201).location(`/api/events/${event.id}`).json(event);
    });

    app.get('/api/events', async (req, res) => {
      const { limit } = parseInput(listQuery, req.query);
      res.json(await catalog.list(limit));
    });

    app.get('/api/events/:id', async (req, res) => {
      const { id } = parseInput(idParam, req.params);
      res.json(await catalog.get(id));
    });

    app.get('/api/events/:id/seats', async (req, res) => {
      const { id } = parseInput(idParam, req.params);
      await catalog.get(id);
      const snapshot = await seatMaps.get(id);
      res.setHeader('ETag', snapshot.etag);
      res.setHeader('X-Seat-Map-Version', String(snapshot.version));
      res.setHeader('Cache-Control', 'no-cache');
      if (req.get('if-none-match') === snapshot.etag) {
        res.status(304).end();
        return;
      }
      res.type('application/json').send(snapshot.body);
    });

    app.post('/api/reservations', signedIn, async (req, res) => {
      const rawKey = req.get('idempotency-key');
      const key = rawKey === undefined ? undefined : parseInput(idempotencyKey, rawKey);
      const request = parseInput(reserveBody, req.body);
      const principal = res.locals.principal;
      const known = await reservations.replayIfKnown(principal, request, key);
      if (known !== undefined) {
        res.setHeader('Idempotent-Replayed', 'true');
        res.status(202).location(`/api/reservations/${known.id}`).json(known);
        return;
      }
      const admission = await room.admit(principal, request.eventId, req.get('x-admission-token'));
      const { reservation, replayed } = await reservations.reserve(
        principal,
        request,
        key,
        admission?.tokenId,
      );
      if (admission !== undefined && !replayed) {
        await room
          .spend(principal, request.eventId, admission.tokenId)
          .catch((error: Error) =>
            res.locals.log.warn(
              { err: error, reservationId: reservation.id },
              'booked; the admission slot could not be freed in Redis now and will lapse on its own',
            ),
          );
      }
      if (replayed) res.setHeader('Idempotent-Replayed', 'true');
      res.status(202).location(`/api/reservations/${reservation.id}`).json(reservation);
    });

    app.get('/api/reservations', signedIn, async (req, res) => {
      const { limit } = parseInput(listQuery, req.query);
      res.json(await reservations.list(res.locals.principal, limit));
    });

    app.get('/api/reservations/:id', signedIn, async (req, res) => {
      const { id } = parseInput(idParam, req.params);
      res.json(await reservations.get(res.locals.principal, id));
    });

    app.delete('/api/reservations/:id', signedIn, async (req, res) => {
      const { id } = parseInput(idParam, req.params);
      res.json(await reservations.cancel(res.locals.principal, id));
    });
  };
}
