import type { DeclineReason } from '@reservex/contracts';

export type ChargeResult =
  | { kind: 'captured' }
  | { kind: 'declined'; reason: DeclineReason }
  | { kind: 'timeout' };

/** What the provider holds for an idempotency key: an outcome, or nothing (no charge was made under it). */
export type LookupResult =
  | { kind: 'captured' }
  | { kind: 'declined'; reason: DeclineReason }
  | { kind: 'none' };

export type RefundResult = { kind: 'refunded' } | { kind: 'timeout' };

/**
 * The payment provider, as payment-service sees it. Every call carries an idempotency key: asking again with the
 * same key never moves money twice, it returns what happened the first time.
 */
export interface Gateway {
  charge(idempotencyKey: string, amount: number): Promise<ChargeResult>;
  /** Asks what the provider did with a charge key, without charging. */
  lookup(idempotencyKey: string): Promise<LookupResult>;
  refund(idempotencyKey: string, chargeKey: string, amount: number): Promise<RefundResult>;
}

/** The keys payment-service uses with the provider: one charge and at most one refund per reservation. */
export const chargeKey = (reservationId: string) => `charge:${reservationId}`;
export const refundKey = (reservationId: string) => `refund:${reservationId}`;
