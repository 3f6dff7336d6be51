import { type AccessTokenVerifier, authenticate, parseInput } from '@reservex/kit';
import type { Express } from 'express';
import type { BookSeats } from '../use-cases/book-seats.ts';
import type { ReservationUseCases } from '../use-cases/reservations.ts';
import { idempotencyKey, idParam, listQuery, reserveBody } from './schemas.ts';

/** How often a PENDING booking is worth asking about: most settle within a few seconds. */
const PENDING_POLL_SECONDS = 2;

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
      const view = await reservations.get(res.locals.principal, id);
      // A fan's app polls a PENDING booking: how often it needs to (docs/overload.md). Under overload thousands
      // of fans wait on their payment at once, and their polls are load the saga does not need.
      if (view.status === 'PENDING') res.setHeader('Retry-After', String(PENDING_POLL_SECONDS));
      res.json(view);
    });

    app.delete('/api/reservations/:id', signedIn, async (req, res) => {
      const { id } = parseInput(idParam, req.params);
      res.json(await reservations.cancel(res.locals.principal, id));
    });
  };
}
