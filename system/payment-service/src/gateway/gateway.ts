import type { PaymentFailureReason } from '@reservex/contracts';

/** Why an answer tells nothing: the money may or may not have moved. */
export type Unknown = { kind: 'unknown'; why: string };

/**
 * The provider captured the charge, at `capturedAt` by its own clock (the answer may reach us much later: a
 * lookup after a lost answer). Null when the answer carries no time, as a provider older than that field sends.
 */
export type Captured = { kind: 'captured'; capturedAt: Date | null };

/** A charge's answer. Only `captured` and `declined` are outcomes; anything else leaves the payment in doubt. */
export type ChargeAnswer = Captured | { kind: 'declined'; reason: PaymentFailureReason } | Unknown;

/** What the provider holds for a charge key. */
export type LookupAnswer =
  | Captured
  | { kind: 'declined'; reason: PaymentFailureReason }
  /** Given up on by us: nothing was, or ever will be, captured under the key. */
  | { kind: 'voided' }
  /** A request under the key is still being processed. */
  | { kind: 'pending' }
  /** The provider never saw the key: no request under it arrived. */
  | { kind: 'none' }
  | Unknown;

/** After asking the provider to void a key: it is voided, or it already had an outcome. */
export type VoidAnswer =
  | { kind: 'voided' }
  | Captured
  | { kind: 'declined'; reason: PaymentFailureReason }
  | Unknown;

export type RefundAnswer =
  | { kind: 'refunded' }
  /**
   * The provider refuses it for good: nothing captured under the charge key (`not-captured`), more than is left of
   * the capture (`over-refund`), or a request it does not take (`validation`). Never retried into success.
   */
  | { kind: 'rejected'; why: string }
  | Unknown;

/**
 * The payment provider, as payment-service sees it. Every call carries an idempotency key: asking again with the
 * same key never moves money twice, it returns what happened the first time. A timeout, a reset connection or a
 * 5xx is never read as "not charged": it is an unknown, resolved by asking again.
 */
export interface Gateway {
  charge(idempotencyKey: string, amount: number, currency: string): Promise<ChargeAnswer>;
  /** Asks what the provider did with a charge key, without charging. */
  lookup(idempotencyKey: string): Promise<LookupAnswer>;
  /** Gives up on a charge key: unless it was already captured or declined, nothing will be captured under it. */
  void(idempotencyKey: string): Promise<VoidAnswer>;
  refund(idempotencyKey: string, chargeKey: string, amount: number): Promise<RefundAnswer>;
}

/** The keys payment-service uses with the provider: one charge and at most one refund per reservation. */
export const chargeKey = (reservationId: string) => `charge:${reservationId}`;
export const refundKey = (reservationId: string) => `refund:${reservationId}`;
