import assert from 'node:assert/strict';
import { topicsConsumedBy } from '@reservex/contracts';
import fc from 'fast-check';
import {
  backoffMs,
  chargeWindow,
  onChargeOutcome,
  onProviderRecord,
  onRefundAnswer,
  onRefundDue,
  onReservationCancelled,
  onReservationCreated,
} from '../src/domain/payment-saga.ts';
import {
  nextPaymentStatus,
  PAYMENT_STATUSES,
  PAYMENT_TRANSITIONS,
  type PaymentStatus,
} from '../src/domain/payment-status.ts';
import { paymentSaga } from '../src/messaging/payment-saga.ts';

/** The provider's answer: captured, at its own time of the capture. */
const captured = { kind: 'captured' as const, capturedAt: new Date('2030-05-01T12:00:00.000Z') };

describe('the payment saga, step by step (pure decisions)', () => {
  it('reservation.created: open the payment, unless the reservation already ended or its hold ran out', () => {
    assert.deepEqual(onReservationCreated({ cancelled: false, holdEnded: false }), { kind: 'open' });
    assert.deepEqual(onReservationCreated({ cancelled: true, holdEnded: false }), {
      kind: 'refuse',
      reason: 'reservation-cancelled',
    });
    assert.deepEqual(onReservationCreated({ cancelled: false, holdEnded: true }), {
      kind: 'refuse',
      reason: 'hold-expired',
    });
  });

  it('reservation.cancelled: refund a CAPTURED payment; leave the rest to whoever holds them', () => {
    assert.deepEqual(onReservationCancelled({ status: 'CAPTURED' }), { kind: 'refund' });
    for (const status of [
      'PROCESSING',
      'IN_DOUBT',
      'FAILED',
      'REFUNDING',
      'REFUNDED',
      'REFUND_REFUSED',
    ] as const)
      assert.deepEqual(onReservationCancelled({ status }), { kind: 'nothing' }, status);
    assert.deepEqual(onReservationCancelled(undefined), { kind: 'nothing' });
  });

  it('a refund of nothing (a free seat charged 0) is complete without the provider; any other is asked of it', () => {
    assert.deepEqual(onRefundDue({ amount: 0 }), { kind: 'complete' });
    assert.deepEqual(onRefundDue({ amount: 1 }), { kind: 'ask-provider' });
  });

  it('the provider’s answer to a refund: refunded completes it, a refusal is final with its reason, a lost answer is asked again', () => {
    assert.deepEqual(onRefundAnswer({ kind: 'refunded' }), { kind: 'complete' });
    assert.deepEqual(onRefundAnswer({ kind: 'rejected', why: 'over-refund' }), {
      kind: 'refuse',
      reason: 'over-refund',
    });
    assert.deepEqual(onRefundAnswer({ kind: 'unknown' }), { kind: 'retry' });
  });

  const processing = { status: 'PROCESSING' as const, attempts: 2 };
  const mine = { attempt: 2, cancelled: false };

  it('a capture by the attempt holding the claim: CAPTURED, and payment.completed', () => {
    assert.deepEqual(onChargeOutcome(processing, captured, mine), {
      kind: 'transition',
      transition: 'capture',
      publish: 'completed',
    });
  });

  it('a capture for a cancelled reservation: straight to REFUNDING, nothing published yet', () => {
    assert.deepEqual(onChargeOutcome(processing, captured, { ...mine, cancelled: true }), {
      kind: 'transition',
      transition: 'capture-after-cancel',
      publish: 'none',
    });
  });

  it('a decline, or a hold that ran out before any charge: FAILED with its reason, and payment.failed', () => {
    assert.deepEqual(onChargeOutcome(processing, { kind: 'declined', reason: 'insufficient-funds' }, mine), {
      kind: 'transition',
      transition: 'fail',
      publish: 'failed',
      reason: 'insufficient-funds',
    });
    assert.deepEqual(onChargeOutcome(processing, { kind: 'not-attempted', reason: 'hold-expired' }, mine), {
      kind: 'transition',
      transition: 'fail',
      publish: 'failed',
      reason: 'hold-expired',
    });
  });

  it('an attempt that lost its claim settles nothing', () => {
    assert.deepEqual(onChargeOutcome(processing, captured, { ...mine, attempt: 1 }), {
      kind: 'nothing',
    });
  });

  it('a capture that lands on a FAILED payment is refunded, whoever made it', () => {
    assert.deepEqual(onChargeOutcome({ status: 'FAILED', attempts: 3 }, captured, { ...mine, attempt: 1 }), {
      kind: 'transition',
      transition: 'refund-late-capture',
      publish: 'none',
    });
  });

  it('the consumer handles exactly the messages the saga definition gives payment-service', () => {
    const nobody = { wake() {} };
    const handled = paymentSaga({ processor: nobody, refunder: nobody })
      .map((h) => h.topic)
      .sort();
    assert.deepEqual(handled, topicsConsumedBy('payment-service'));
  });
});

describe('the payment state machine (property)', () => {
  // REFUND_REFUSED holds it too: the provider would not give it back.
  const holdsMoney = (status: PaymentStatus) =>
    status === 'CAPTURED' || status === 'REFUNDING' || status === 'REFUND_REFUSED';

  it('money that was captured only ever leaves through REFUNDING, and REFUNDED and REFUND_REFUSED are final', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PAYMENT_TRANSITIONS), { maxLength: 20 }), (sequence) => {
        let status: PaymentStatus = 'PROCESSING';
        for (const t of sequence) {
          let to: PaymentStatus;
          try {
            to = nextPaymentStatus(status, t);
          } catch {
            continue;
          }
          if (holdsMoney(status))
            assert.ok(holdsMoney(to) || to === 'REFUNDED', `${status} -${t}-> ${to} loses money`);
          if (to === 'REFUNDED') assert.equal(status, 'REFUNDING');
          assert.notEqual(status, 'REFUNDED', 'REFUNDED moved');
          assert.notEqual(status, 'REFUND_REFUSED', 'REFUND_REFUSED moved');
          status = to;
        }
        assert.ok(PAYMENT_STATUSES.includes(status));
      }),
    );
  });
});

describe('payments in doubt (pure decisions)', () => {
  const processing = { status: 'PROCESSING' as const, attempts: 2 };
  const inDoubt = { status: 'IN_DOUBT' as const, attempts: 5 };
  const mine = { attempt: 2, cancelled: false };
  const open = { mayCharge: true, mayWait: true };
  const closing = { mayCharge: false, mayWait: true };
  const closed = { mayCharge: false, mayWait: false };

  it('an unknown answer is never a decline: PROCESSING goes IN_DOUBT, and nothing is published', () => {
    assert.deepEqual(onChargeOutcome(processing, { kind: 'unknown' }, mine), {
      kind: 'transition',
      transition: 'doubt',
      publish: 'none',
    });
    assert.deepEqual(onChargeOutcome(inDoubt, { kind: 'unknown' }, { ...mine, attempt: 5 }), {
      kind: 'nothing',
    });
  });

  it('the provider’s record settles a payment in doubt, as a charge answer would, a capture with the provider’s time of it', () => {
    assert.deepEqual(onProviderRecord(captured, closed), {
      kind: 'settle',
      outcome: { kind: 'captured', capturedAt: captured.capturedAt },
    });
    assert.deepEqual(onProviderRecord({ kind: 'declined', reason: 'expired-card' }, open), {
      kind: 'settle',
      outcome: { kind: 'declined', reason: 'expired-card' },
    });
    assert.deepEqual(onProviderRecord({ kind: 'voided' }, open), {
      kind: 'settle',
      outcome: { kind: 'declined', reason: 'gateway-timeout' },
    });
    assert.deepEqual(onChargeOutcome(inDoubt, captured, { attempt: 5, cancelled: false }), {
      kind: 'transition',
      transition: 'capture',
      publish: 'completed',
    });
    assert.deepEqual(onChargeOutcome(inDoubt, captured, { attempt: 5, cancelled: true }), {
      kind: 'transition',
      transition: 'capture-after-cancel',
      publish: 'none',
    });
  });

  it('a key the provider never saw is charged again while the hold allows, and voided once it does not', () => {
    assert.deepEqual(onProviderRecord({ kind: 'none' }, open), { kind: 'charge-again' });
    assert.deepEqual(onProviderRecord({ kind: 'none' }, closing), { kind: 'void' });
    assert.deepEqual(onProviderRecord({ kind: 'none' }, closed), { kind: 'void' });
  });

  it('a charge still in flight is waited for until settle-by draws near, then voided', () => {
    assert.deepEqual(onProviderRecord({ kind: 'pending' }, open), { kind: 'wait' });
    assert.deepEqual(onProviderRecord({ kind: 'pending' }, closing), { kind: 'wait' });
    assert.deepEqual(onProviderRecord({ kind: 'pending' }, closed), { kind: 'void' });
  });

  it('no answer at all is waited out, however late: only the provider’s record decides', () => {
    for (const window of [open, closing, closed])
      assert.deepEqual(onProviderRecord({ kind: 'unknown' }, window), { kind: 'wait' });
  });

  it('the hold rule: charge before the deadline, wait until settle-by less the margin, nothing once cancelled', () => {
    const t0 = Date.parse('2026-11-30T12:00:00Z');
    const payment = { holdExpiresAt: new Date(t0), settleBy: new Date(t0 + 30_000), cancelled: false };
    assert.deepEqual(chargeWindow(payment, t0 - 1, 6000), { mayCharge: true, mayWait: true });
    assert.deepEqual(chargeWindow(payment, t0 + 10_000, 6000), { mayCharge: false, mayWait: true });
    assert.deepEqual(chargeWindow(payment, t0 + 24_000, 6000), { mayCharge: false, mayWait: false });
    assert.deepEqual(chargeWindow({ ...payment, cancelled: true }, t0 - 1, 6000), closed);
    // A settle window smaller than the margin: waiting ends at the deadline, never before it.
    assert.deepEqual(chargeWindow({ ...payment, settleBy: new Date(t0 + 1000) }, t0 - 1, 6000), open);
  });

  it('the backoff doubles up to its cap, with jitter that never goes below half', () => {
    const options = { baseMs: 250, maxMs: 4000 };
    assert.equal(
      backoffMs(0, options, () => 0),
      125,
    );
    assert.equal(
      backoffMs(0, options, () => 1),
      250,
    );
    assert.equal(
      backoffMs(3, options, () => 1),
      2000,
    );
    assert.equal(
      backoffMs(10, options, () => 1),
      4000,
    );
    assert.equal(
      backoffMs(10, options, () => 0),
      2000,
    );
    fc.assert(
      fc.property(fc.nat(100), fc.double({ min: 0, max: 1, noNaN: true }), (tries, r) => {
        const ms = backoffMs(tries, options, () => r);
        return ms >= 125 && ms <= 4000;
      }),
    );
  });
});
