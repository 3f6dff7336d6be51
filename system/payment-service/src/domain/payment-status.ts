export const PAYMENT_STATUSES = ['PROCESSING', 'CAPTURED', 'FAILED', 'REFUNDING', 'REFUNDED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const PAYMENT_TRANSITIONS = [
  'capture',
  'fail',
  'capture-after-cancel',
  'refund',
  'refund-late-capture',
  'refunded',
] as const;
export type PaymentTransition = (typeof PAYMENT_TRANSITIONS)[number];

/**
 * Every change of a payment's status goes through this table. Money that was captured only ever leaves
 * through REFUNDING, which a worker completes once the gateway confirms the refund.
 *
 *   PROCESSING --capture--> CAPTURED --refund--> REFUNDING --refunded--> REFUNDED
 *   PROCESSING --fail--> FAILED --refund-late-capture--> REFUNDING
 *   PROCESSING --capture-after-cancel--> REFUNDING
 */
const TRANSITIONS: Record<PaymentStatus, Partial<Record<PaymentTransition, PaymentStatus>>> = {
  PROCESSING: { capture: 'CAPTURED', fail: 'FAILED', 'capture-after-cancel': 'REFUNDING' },
  CAPTURED: { refund: 'REFUNDING' },
  // A capture that turns up for a payment already given up on (its attempt lost the claim, or the hold ran out
  // first): the money moved, so it goes back.
  FAILED: { 'refund-late-capture': 'REFUNDING' },
  REFUNDING: { refunded: 'REFUNDED' },
  REFUNDED: {},
};

export class IllegalPaymentTransition extends Error {
  constructor(from: PaymentStatus, transition: PaymentTransition) {
    super(`a ${from} payment cannot ${transition}`);
    this.name = 'IllegalPaymentTransition';
  }
}

export function nextPaymentStatus(from: PaymentStatus, transition: PaymentTransition): PaymentStatus {
  const to = TRANSITIONS[from][transition];
  if (to === undefined) throw new IllegalPaymentTransition(from, transition);
  return to;
}
