import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from '@reservex/kit';
import { type DeclineReason, drawOutcome, type FaultProfile } from '../domain/fault-profile.ts';

export type ChargeResult =
  | { kind: 'captured' }
  | { kind: 'declined'; reason: DeclineReason }
  | { kind: 'timeout' };

/** What the provider has on record for an idempotency key: an outcome, or nothing (the charge never happened). */
export type LookupResult =
  | { kind: 'captured' }
  | { kind: 'declined'; reason: DeclineReason }
  | { kind: 'none' };

/**
 * A payment provider stand-in. Like a real one, it remembers each idempotency key: asking again for a charge it
 * already made returns the same answer instead of charging twice. A timed-out call leaves no record, as if the
 * request never arrived.
 */
export function simulatedGateway(pool: Pool, faults: () => FaultProfile, timeoutMs: number) {
  return {
    /** Asks the provider what it did with this idempotency key, without charging. */
    async lookup(idempotencyKey: string): Promise<LookupResult> {
      const { rows } = await pool.query<{ outcome: string }>(
        "SELECT outcome FROM gateway_ledger WHERE idempotency_key = $1 AND kind = 'charge'",
        [idempotencyKey],
      );
      const known = rows[0]?.outcome;
      if (known === undefined) return { kind: 'none' };
      return known === 'captured'
        ? { kind: 'captured' }
        : { kind: 'declined', reason: known as DeclineReason };
    },

    async charge(idempotencyKey: string, amount: number): Promise<ChargeResult> {
      const previous = await pool.query<{ outcome: string }>(
        "SELECT outcome FROM gateway_ledger WHERE idempotency_key = $1 AND kind = 'charge'",
        [idempotencyKey],
      );
      const known = previous.rows[0]?.outcome;
      if (known !== undefined) {
        return known === 'captured'
          ? { kind: 'captured' }
          : { kind: 'declined', reason: known as DeclineReason };
      }
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
      const final = rows[0]?.outcome ?? recorded;
      return final === 'captured'
        ? { kind: 'captured' }
        : { kind: 'declined', reason: final as DeclineReason };
    },
  };
}

export type Gateway = ReturnType<typeof simulatedGateway>;
