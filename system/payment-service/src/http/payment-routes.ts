import { type AccessTokenVerifier, authenticate, type Pool, parseInput } from '@reservex/kit';
import type { Express } from 'express';
import { paymentsOf } from '../use-cases/payments.ts';
import { paymentsQuery } from './operations.ts';

/**
 * payment-service's own API is read-only: payments move through the saga. The provider's faults are set at the
 * provider (system/payment-provider, PUT /v1/faults), which is where they happen.
 */
export function paymentRoutes(pool: Pool, verify: AccessTokenVerifier) {
  return (app: Express) => {
    app.get('/api/payments', authenticate(verify), async (req, res) => {
      const { reservationId } = parseInput(paymentsQuery, req.query);
      res.json(await paymentsOf(pool, res.locals.principal, reservationId));
    });
  };
}
