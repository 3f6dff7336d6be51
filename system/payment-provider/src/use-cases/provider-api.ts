import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultProfile } from '@reservex/contracts';
import type { Pool } from '@reservex/kit';
import { drawChargeFate, drawRefundFate, inOutage } from '../domain/provider-faults.ts';
import { type Charge, capture, decline, findCharge, startCharge, voidCharge } from '../store/charges.ts';
import { recordRefund, refundExists } from '../store/refunds.ts';

/**
 * What the provider answers, and what it does to the connection after (or instead of) answering: `hang` keeps it
 * open past any caller's deadline, `reset` drops it. The HTTP layer carries this out.
 */
export interface ProviderAnswer {
  status: number;
  body: Record<string, unknown>;
  connection?: 'hang' | 'reset';
}

const unavailable: ProviderAnswer = { status: 503, body: { error: 'unavailable', retryAfterSeconds: 1 } };

/** A capture's answer carries the provider's own time of it: the merchant's clock may read the answer much later. */
const capturedBody = (amount: number, currency: string, capturedAt: Date) => ({
  status: 'captured',
  amount,
  currency,
  capturedAt: capturedAt.toISOString(),
});

function chargeView(c: Charge): ProviderAnswer {
  switch (c.status) {
    case 'captured':
      return { status: 200, body: capturedBody(c.amount, c.currency, c.decidedAt!) };
    case 'declined':
      return { status: 402, body: { status: 'declined', reason: c.declineReason } };
    case 'voided':
      return { status: 409, body: { status: 'voided' } };
    case 'pending':
      // A request with this key is still in flight: as real providers answer a concurrent idempotent retry.
      return { status: 409, body: { status: 'pending' } };
  }
}

/** The provider's API, over its own store. `faults` is the profile in force now. */
export function providerApi(deps: {
  pool: Pool;
  faults: () => Promise<FaultProfile>;
  random?: () => number;
}) {
  const { pool } = deps;
  const random = deps.random ?? Math.random;
  return {
    async charge(key: string, amount: number, currency: string): Promise<ProviderAnswer> {
      const faults = await deps.faults();
      if (inOutage(faults)) return unavailable;
      const replay = (known: Charge): ProviderAnswer =>
        known.status !== 'voided' && known.amount !== amount
          ? {
              status: 422,
              body: { error: 'idempotency-key-reused', detail: 'another amount under this key' },
            }
          : chargeView(known);
      // A new key is the common case: it is recorded first, and read back only when it was known already.
      const fate = drawChargeFate(faults, random);
      if (fate.kind === 'lost') {
        // Lost on the way: no record, and the caller hears nothing (a known key still answers what it holds).
        const known = await findCharge(pool, key);
        return known === undefined ? { status: 504, body: {}, connection: 'hang' } : replay(known);
      }
      if (!(await startCharge(pool, key, amount, currency))) return replay((await findCharge(pool, key))!);
      await sleep(fate.latencyMs);
      if (fate.kind === 'declined') {
        if (!(await decline(pool, key, fate.reason))) return chargeView((await findCharge(pool, key))!);
        return { status: 402, body: { status: 'declined', reason: fate.reason } };
      }
      const capturedAt = await capture(pool, key);
      // Voided while it was in flight: nothing is captured.
      if (capturedAt === undefined) return chargeView((await findCharge(pool, key))!);
      const captured: ProviderAnswer = { status: 200, body: capturedBody(amount, currency, capturedAt) };
      if (fate.answer === 'hang') return { ...captured, connection: 'hang' };
      if (fate.answer === 'reset') return { ...captured, connection: 'reset' };
      if (fate.answer === 'error') return { status: 500, body: { error: 'internal' } };
      return captured;
    },

    /** What the provider holds for a key, without charging: 404 when it never saw it. */
    async lookup(key: string): Promise<ProviderAnswer> {
      if (inOutage(await deps.faults())) return unavailable;
      const known = await findCharge(pool, key);
      if (known === undefined) return { status: 404, body: { status: 'unknown' } };
      return { ...chargeView(known), status: 200 };
    },

    /** The merchant gives up on the key: nothing will be captured under it from now on, unless it already was. */
    async void(key: string): Promise<ProviderAnswer> {
      if (inOutage(await deps.faults())) return unavailable;
      const after = await voidCharge(pool, key);
      return { ...chargeView(after), status: after.status === 'captured' ? 409 : 200 };
    },

    async refund(key: string, chargeKey: string, amount: number): Promise<ProviderAnswer> {
      const faults = await deps.faults();
      if (inOutage(faults)) return unavailable;
      if (await refundExists(pool, key)) return { status: 200, body: { status: 'refunded', amount } };
      const charge = await findCharge(pool, chargeKey);
      if (charge?.status !== 'captured')
        return {
          status: 422,
          body: { error: 'not-captured', detail: `nothing was captured under ${chargeKey}` },
        };
      const fate = drawRefundFate(faults, random);
      if (fate === 'lost') return { status: 504, body: {}, connection: 'hang' };
      if ((await recordRefund(pool, key, chargeKey, amount)) === 'over-refund')
        return {
          status: 422,
          body: { error: 'over-refund', detail: 'more than what is left of the capture' },
        };
      const refunded: ProviderAnswer = { status: 200, body: { status: 'refunded', amount } };
      return fate === 'refunded-then-hang' ? { ...refunded, connection: 'hang' } : refunded;
    },

    async lookupRefund(key: string): Promise<ProviderAnswer> {
      if (inOutage(await deps.faults())) return unavailable;
      return (await refundExists(pool, key))
        ? { status: 200, body: { status: 'refunded' } }
        : { status: 404, body: { status: 'unknown' } };
    },
  };
}

export type ProviderApi = ReturnType<typeof providerApi>;
