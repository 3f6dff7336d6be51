import assert from 'node:assert/strict';
import {
  IllegalPaymentTransition,
  nextPaymentStatus,
  PAYMENT_STATUSES,
  PAYMENT_TRANSITIONS,
} from '../src/domain/payment-status.ts';

describe('payment state machine (the whole table)', () => {
  // Written out in full so that any edge added, dropped or changed in the table fails here.
  const expected: Record<string, Record<string, string>> = {
    PROCESSING: {
      capture: 'CAPTURED',
      fail: 'FAILED',
      'capture-after-cancel': 'REFUNDING',
      doubt: 'IN_DOUBT',
    },
    IN_DOUBT: {
      capture: 'CAPTURED',
      fail: 'FAILED',
      'capture-after-cancel': 'REFUNDING',
      retry: 'PROCESSING',
    },
    CAPTURED: { refund: 'REFUNDING' },
    FAILED: { 'refund-late-capture': 'REFUNDING' },
    REFUNDING: { refunded: 'REFUNDED', 'refund-refused': 'REFUND_REFUSED' },
    REFUNDED: {},
    REFUND_REFUSED: {},
  };

  it('allows exactly the documented edges and refuses every other one by name', () => {
    for (const from of PAYMENT_STATUSES) {
      for (const t of PAYMENT_TRANSITIONS) {
        const to = expected[from]?.[t];
        if (to !== undefined) {
          assert.equal(nextPaymentStatus(from, t), to, `${from} --${t}-->`);
        } else {
          assert.throws(
            () => nextPaymentStatus(from, t),
            (e: unknown) =>
              e instanceof IllegalPaymentTransition &&
              e.name === 'IllegalPaymentTransition' &&
              e.message === `a ${from} payment cannot ${t}`,
            `${from} --${t}--> must be refused`,
          );
        }
      }
    }
  });

  it('lets captured money leave only through REFUNDING', () => {
    for (const from of PAYMENT_STATUSES) {
      for (const t of PAYMENT_TRANSITIONS) {
        let to: string;
        try {
          to = nextPaymentStatus(from, t);
        } catch {
          continue;
        }
        if (from === 'CAPTURED') assert.equal(to, 'REFUNDING');
        if (to === 'REFUNDED') assert.equal(from, 'REFUNDING');
      }
    }
  });
});
