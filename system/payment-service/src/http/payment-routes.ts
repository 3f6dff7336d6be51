import { type AccessTokenVerifier, authenticate, type Pool, parseInput, requireRole } from '@reservex/kit';
import type { Express } from 'express';
import { z } from 'zod';
import { type FaultProfile, faultProfileSchema } from '../domain/fault-profile.ts';
import { paymentsOf } from '../use-cases/payments.ts';

const paymentsQuery = z.strictObject({ reservationId: z.uuid() });

export interface FaultSwitch {
  get(): FaultProfile;
  set(profile: FaultProfile): void;
}

export function paymentRoutes(pool: Pool, verify: AccessTokenVerifier, faults: FaultSwitch) {
  return (app: Express) => {
    app.get('/api/payments', authenticate(verify), async (req, res) => {
      const { reservationId } = parseInput(paymentsQuery, req.query);
      res.json(await paymentsOf(pool, res.locals.principal, reservationId));
    });

    app.get('/api/admin/faults', authenticate(verify), requireRole('admin'), (_req, res) => {
      res.json(faults.get());
    });

    app.put('/api/admin/faults', authenticate(verify), requireRole('admin'), (req, res) => {
      const profile = parseInput(faultProfileSchema, req.body);
      faults.set(profile);
      res.locals.log.info({ faults: profile }, 'gateway fault profile changed');
      res.json(profile);
    });
  };
}
