import { type AccessTokenVerifier, authenticate, type Pool, parseInput, requireRole } from '@reservex/kit';
import type { Express } from 'express';
import { z } from 'zod';
import { type FaultProfile, faultProfileSchema } from '../domain/fault-profile.ts';
import { paymentsForReservation } from '../store/payments.ts';

const paymentsQuery = z.strictObject({ reservationId: z.uuid() });

export interface FaultSwitch {
  get(): FaultProfile;
  set(profile: FaultProfile): void;
}

export function paymentRoutes(pool: Pool, verify: AccessTokenVerifier, faults: FaultSwitch) {
  return (app: Express) => {
    app.get('/api/payments', authenticate(verify), async (req, res) => {
      const { reservationId } = parseInput(paymentsQuery, req.query);
      const principal = res.locals.principal;
      const payments = await paymentsForReservation(pool, reservationId);
      const visible = principal.roles.includes('admin')
        ? payments
        : payments.filter((p) => p.userId === principal.userId);
      res.json(
        visible.map((p) => ({
          id: p.id,
          reservationId: p.reservationId,
          amount: p.amount,
          currency: p.currency,
          status: p.status,
          failureReason: p.failureReason ?? undefined,
          createdAt: p.createdAt,
          capturedAt: p.capturedAt ?? undefined,
          refundedAt: p.refundedAt ?? undefined,
        })),
      );
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
