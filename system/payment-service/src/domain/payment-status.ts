export const PAYMENT_STATUSES = ['PROCESSING', 'CAPTURED', 'FAILED', 'REFUNDED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export type PaymentTransition = 'capture' | 'fail' | 'refund' | 'capture-and-refund' | 'refund-late-capture';

/**
 * Every change of a payment's status goes through this table. A capture that lands after its reservation was
 * cancelled goes straight to REFUNDED: the money was taken, so it must be given back.
 */
const TRANSITIONS: Record<PaymentStatus, Partial<Record<PaymentTransition, PaymentStatus>>> = {
  PROCESSING: { capture: 'CAPTURED', fail: 'FAILED', 'capture-and-refund': 'REFUNDED' },
  CAPTURED: { refund: 'REFUNDED' },
  // A capture that turns up for a payment already given up on (its attempt lost the claim, or was abandoned as
  // the hold ran out): the money moved, so it goes back.
  FAILED: { 'refund-late-capture': 'REFUNDED' },
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

export function canTransition(from: PaymentStatus, transition: PaymentTransition): boolean {
  return TRANSITIONS[from][transition] !== undefined;
}
