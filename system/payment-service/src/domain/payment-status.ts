export const PAYMENT_STATUSES = [
  'PROCESSING',
  'IN_DOUBT',
  'CAPTURED',
  'FAILED',
  'REFUNDING',
  'REFUNDED',
  'REFUND_REFUSED',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const PAYMENT_TRANSITIONS = [
  'capture',
  'fail',
  'capture-after-cancel',
  'doubt',
  'retry',
  'refund',
  'refund-late-capture',
  'refunded',
  'refund-refused',
] as const;
export type PaymentTransition = (typeof PAYMENT_TRANSITIONS)[number];

/**
 * Every change of a payment's status goes through this table. A charge whose answer was lost (a timeout, a
 * reset, a 5xx) is IN_DOUBT: the money may have moved, so it is neither CAPTURED nor FAILED until the provider
 * says which. Money that was captured only ever leaves through REFUNDING, which a worker completes once the
 * provider confirms the refund (or at once, for a refund of nothing: a free seat's charge of 0), or until the
 * provider refuses it for good: REFUND_REFUSED is final, and left to an operator.
 *
 *   PROCESSING --capture--> CAPTURED --refund--> REFUNDING --refunded--> REFUNDED
 *                                                REFUNDING --refund-refused--> REFUND_REFUSED
 *   PROCESSING --fail--> FAILED --refund-late-capture--> REFUNDING
 *   PROCESSING --capture-after-cancel--> REFUNDING
 *   PROCESSING --doubt--> IN_DOUBT --capture | fail | capture-after-cancel--> as from PROCESSING
 *                         IN_DOUBT --retry--> PROCESSING   (the provider never saw the charge, and the hold is on)
 */
const TRANSITIONS: Record<PaymentStatus, Partial<Record<PaymentTransition, PaymentStatus>>> = {
  PROCESSING: { capture: 'CAPTURED', fail: 'FAILED', 'capture-after-cancel': 'REFUNDING', doubt: 'IN_DOUBT' },
  IN_DOUBT: { capture: 'CAPTURED', fail: 'FAILED', 'capture-after-cancel': 'REFUNDING', retry: 'PROCESSING' },
  CAPTURED: { refund: 'REFUNDING' },
  // A capture that turns up for a payment already given up on: the money moved, so it goes back.
  FAILED: { 'refund-late-capture': 'REFUNDING' },
  REFUNDING: { refunded: 'REFUNDED', 'refund-refused': 'REFUND_REFUSED' },
  REFUNDED: {},
  // The provider will not give the money back under this refund: asking again would get the same answer.
  REFUND_REFUSED: {},
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
