import { setTimeout as sleep } from 'node:timers/promises';
import type { DeclineReason } from '@reservex/contracts';
import type { Pool } from '@reservex/kit';
import { drawOutcome, type FaultProfile } from '../domain/fault-profile.ts';
import type { ChargeResult, Gateway, LookupResult, RefundResult } from './gateway.ts';

const asResult = (outcome: string): ChargeResult & LookupResult =>
  outcome === 'captured' ? { kind: 'captured' } : { kind: 'declined', reason: outcome as DeclineReason };

/**
 * A payment provider stand-in. Like a real one, it remembers each idempotency key: asking again for a charge it
 * already made returns the same answer instead of charging twice. A timed-out call leaves no record, as if the
 * request never arrived. Refunds always succeed.
 */
export function simulatedGateway(pool: Pool, faults: () => FaultProfile, timeoutMs: number): Gateway {
  return {
    async lookup(idempotencyKey): Promise<LookupResult> {
      const { rows } = await pool.query<{ outcome: string }>(
        "SELECT outcome FROM gateway_ledger WHERE idempotency_key = $1 AND kind = 'charge'",
        [idempotencyKey],
      );
      return rows[0] === undefined ? { kind: 'none' } : asResult(rows[0].outcome);
    },

    async charge(idempotencyKey, amount): Promise<ChargeResult> {
      const known = await this.lookup(idempotencyKey);
      if (known.kind !== 'none') return known;
      const outcome = drawOutcome(faults(), timeoutMs);
      await sleep(outcome.latencyMs);
      if (outcome.kind === 'timeout') return { kind: 'timeout' };
      const recorded = outcome.kind === 'captured' ? 'captured' : outcome.reason;
      // First answer wins: a concurrent retry with the same key reads this row instead of drawing again.
      const { rows } = await pool.query<{ outcome: string }>(
        `INSERT INTO gateway_ledger (idempotency_key, kind, outcome, amount, latency_ms) VALUES ($1, 'charge', $2, $3, $4)
         ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
         RETURNING outcome`,
        [idempotencyKey, recorded, amount, outcome.latencyMs],
      );
      return asResult(rows[0]?.outcome ?? recorded);
    },

    async refund(idempotencyKey, _chargeKey, amount): Promise<RefundResult> {
      await pool.query(
        `INSERT INTO gateway_ledger (idempotency_key, kind, outcome, amount, latency_ms)
         VALUES ($1, 'refund', 'refunded', $2, 0) ON CONFLICT (idempotency_key) DO NOTHING`,
        [idempotencyKey, amount],
      );
      return { kind: 'refunded' };
    },
  };
}
