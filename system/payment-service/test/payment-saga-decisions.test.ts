import assert from 'node:assert/strict';
import { topicsConsumedBy } from '@reservex/contracts';
import fc from 'fast-check';
import { drawOutcome, type FaultProfile } from '../src/domain/fault-profile.ts';
import { onChargeOutcome, onReservationCancelled, onReservationCreated } from '../src/domain/payment-saga.ts';
import {
  nextPaymentStatus,
  PAYMENT_STATUSES,
  PAYMENT_TRANSITIONS,
  type PaymentStatus,
} from '../src/domain/payment-status.ts';
import { paymentSaga } from '../src/messaging/payment-saga.ts';

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
    for (const status of ['PROCESSING', 'FAILED', 'REFUNDING', 'REFUNDED'] as const)
      assert.deepEqual(onReservationCancelled({ status }), { kind: 'nothing' }, status);
    assert.deepEqual(onReservationCancelled(undefined), { kind: 'nothing' });
  });

  const processing = { status: 'PROCESSING' as const, attempts: 2 };
  const mine = { attempt: 2, cancelled: false };

  it('a capture by the attempt holding the claim: CAPTURED, and payment.completed', () => {
    assert.deepEqual(onChargeOutcome(processing, { kind: 'captured' }, mine), {
      kind: 'transition',
      transition: 'capture',
      publish: 'completed',
    });
  });

  it('a capture for a cancelled reservation: straight to REFUNDING, nothing published yet', () => {
    assert.deepEqual(onChargeOutcome(processing, { kind: 'captured' }, { ...mine, cancelled: true }), {
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
    assert.deepEqual(onChargeOutcome(processing, { kind: 'captured' }, { ...mine, attempt: 1 }), {
      kind: 'nothing',
    });
  });

  it('a capture that lands on a FAILED payment is refunded, whoever made it', () => {
    assert.deepEqual(
      onChargeOutcome({ status: 'FAILED', attempts: 3 }, { kind: 'captured' }, { ...mine, attempt: 1 }),
      {
        kind: 'transition',
        transition: 'refund-late-capture',
        publish: 'none',
      },
    );
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
  const holdsMoney = (status: PaymentStatus) => status === 'CAPTURED' || status === 'REFUNDING';

  it('money that was captured only ever leaves through REFUNDING, and REFUNDED is final', () => {
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
          status = to;
        }
        assert.ok(PAYMENT_STATUSES.includes(status));
      }),
    );
  });
});

describe('the simulated provider’s fault profile', () => {
  const profile: FaultProfile = { failureRate: 0.3, timeoutRate: 0.1, latencyMs: { min: 10, max: 20 } };

  it('draws timeouts, declines and captures in the configured shares (seeded, 10,000 draws)', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const counts = { captured: 0, declined: 0, timeout: 0 };
    for (let i = 0; i < 10_000; i++) {
      const outcome = drawOutcome(profile, 3000, random);
      counts[outcome.kind]++;
      if (outcome.kind !== 'timeout') assert.ok(outcome.latencyMs >= 10 && outcome.latencyMs <= 20);
    }
    assert.ok(Math.abs(counts.timeout / 10_000 - 0.1) < 0.02, JSON.stringify(counts));
    assert.ok(Math.abs(counts.declined / 10_000 - 0.3) < 0.02, JSON.stringify(counts));
  });
});
