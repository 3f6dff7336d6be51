import { timingSafeEqual } from 'node:crypto';
import { type FaultProfile, faultChangeSchema } from '@reservex/contracts';
import { parseInput, UnauthorizedProblem } from '@reservex/kit';
import type { Express, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import type { ProviderAnswer, ProviderApi } from '../use-cases/provider-api.ts';
import { chargeBody, keyParam, refundBody } from './operations.ts';

export interface FaultControl {
  get(): Promise<FaultProfile>;
  change(change: z.infer<typeof faultChangeSchema>): Promise<FaultProfile>;
}

/** The merchant's key, compared in constant time. */
function merchantOnly(apiKey: string): RequestHandler {
  const expected = Buffer.from(`Bearer ${apiKey}`);
  return (req, _res, next) => {
    const given = Buffer.from(req.get('authorization') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new UnauthorizedProblem('This provider takes the merchant API key as a bearer token');
    next();
  };
}

export function providerRoutes(deps: {
  api: ProviderApi;
  faults: FaultControl;
  apiKey: string;
  hangMs: number;
}) {
  const { api, faults } = deps;
  const send = (res: Response, answer: ProviderAnswer) => {
    if (answer.connection === 'reset') {
      res.socket?.resetAndDestroy();
      return;
    }
    if (answer.connection === 'hang') {
      // The caller gives up long before this; then the connection is dropped without an answer.
      const timer = setTimeout(() => res.socket?.destroy(), deps.hangMs);
      res.once('close', () => clearTimeout(timer));
      return;
    }
    res.status(answer.status).json(answer.body);
  };
  return (app: Express) => {
    const merchant = merchantOnly(deps.apiKey);
    app.post('/v1/charges', merchant, async (req, res) => {
      const b = parseInput(chargeBody, req.body);
      send(res, await api.charge(b.idempotencyKey, b.amount, b.currency));
    });
    app.get('/v1/charges/:key', merchant, async (req, res) => {
      send(res, await api.lookup(parseInput(keyParam, req.params).key));
    });
    app.post('/v1/charges/:key/void', merchant, async (req, res) => {
      send(res, await api.void(parseInput(keyParam, req.params).key));
    });
    app.post('/v1/refunds', merchant, async (req, res) => {
      const b = parseInput(refundBody, req.body);
      send(res, await api.refund(b.idempotencyKey, b.chargeKey, b.amount));
    });
    app.get('/v1/refunds/:key', merchant, async (req, res) => {
      send(res, await api.lookupRefund(parseInput(keyParam, req.params).key));
    });
    app.get('/v1/faults', merchant, async (_req, res) => {
      res.json(await faults.get());
    });
    app.put('/v1/faults', merchant, async (req, res) => {
      const profile = await faults.change(parseInput(faultChangeSchema, req.body));
      res.locals.log.info({ faults: profile }, 'provider fault profile changed');
      res.json(profile);
    });
  };
}
