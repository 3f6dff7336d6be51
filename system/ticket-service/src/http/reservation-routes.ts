import { type AccessTokenVerifier, authenticate, parseInput } from '@reservex/kit';
import type { Express } from 'express';
import type { BookSeats } from '../use-cases/book-seats.ts';
import type { ReservationUseCases } from '../use-cases/reservations.ts';
import { idempotencyKey, idParam, listQuery, reserveBody } from './schemas.ts';

export function reservationRoutes(deps: {
  verify: AccessTokenVerifier;
  bookSeats: BookSeats;
  reservations: ReservationUseCases;
}) {
  const { verify, bookSeats, reservations } = deps;
  const signedIn = authenticate(verify);
  return (app: Express) => {
    app.post('/api/reservations', signedIn, async (req, res) => {
      const rawKey = req.get('idempotency-key');
      const key = rawKey === undefined ? undefined : parseInput(idempotencyKey, rawKey);
      const request = parseInput(reserveBody, req.body);
      const { reservation, replayed } = await bookSeats(
        res.locals.principal,
        request,
        key,
        req.get('x-admission-token'),
      );
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
