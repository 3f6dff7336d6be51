import { faultChangeSchema } from '@reservex/contracts';
import { type AccessTokenVerifier, authenticate, type Pool, parseInput, requireRole } from '@reservex/kit';
import type { Express } from 'express';
import type { ProviderFaults } from '../gateway/provider-faults.ts';
import { paymentsOf } from '../use-cases/payments.ts';
import { paymentsQuery } from './operations.ts';

/**
 * Payments themselves are read-only here: they move through the saga. The provider's fault profile is set at the
 * provider, where the faults happen; admins reach it through here, since only payment-service holds the
 * merchant key.
 */
export function paymentRoutes(pool: Pool, verify: AccessTokenVerifier, faults: ProviderFaults) {
  const admin = [authenticate(verify), requireRole('admin')];
  return (app: Express) => {
    app.get('/api/payments', authenticate(verify), async (req, res) => {
      const { reservationId } = parseInput(paymentsQuery, req.query);
      res.json(await paymentsOf(pool, res.locals.principal, reservationId));
    });
    app.get('/api/admin/payment-faults', ...admin, async (_req, res) => {
      res.json(await faults.get());
    });
    app.put('/api/admin/payment-faults', ...admin, async (req, res) => {
      const profile = await faults.change(parseInput(faultChangeSchema, req.body));
      res.locals.log.info({ faults: profile }, 'provider fault profile changed by an admin');
      res.json(profile);
    });
  };
}
