import { type Pool, withTransaction } from '@reservex/kit';
import { type ChargeOutcome, onChargeOutcome } from '../domain/payment-saga.ts';
import type { PaymentStatus } from '../domain/payment-status.ts';
import { isCancelled } from '../store/cancellations.ts';
import { announceCapture, announceFailure } from '../store/outbox-messages.ts';
import { lockPayment, transitionPayment } from '../store/payments.ts';

/** What settling changed: the move, and since when the payment had been in doubt (for the resolution time). */
export interface Settled {
  from: PaymentStatus;
  to: PaymentStatus;
  inDoubtSince: Date | null;
}

/**
 * Records what is known of a charge, with the saga message it causes, in one transaction. A capture for a
 * reservation that was cancelled meanwhile (a late payment), or for a payment already FAILED, goes to REFUNDING:
 * the refunder gives the money back. An unknown answer makes the payment IN_DOUBT, for the reconciler.
 */
export async function settleCharge(
  pool: Pool,
  paymentId: string,
  outcome: ChargeOutcome,
  attempt: number,
): Promise<Settled | undefined> {
  return withTransaction(pool, async (tx) => {
    const payment = await lockPayment(tx, paymentId);
    if (payment === undefined) return undefined;
    // Read after the lock is held, in a statement of its own (READ COMMITTED: a fresh snapshot). Read in the
    // locking statement, it would come from a snapshot taken before the wait, and miss a cancellation whose
    // consumer held the lock and committed meanwhile; then neither side would refund. The consumer records the
    // cancellation before it locks the payment, so either this sees it, or the consumer sees this capture.
    const cancelled = await isCancelled(tx, payment.reservationId);
    const decision = onChargeOutcome(payment, outcome, { attempt, cancelled });
    if (decision.kind === 'nothing') return undefined;
    const settled = await transitionPayment(tx, payment, decision.transition, {
      reason: decision.reason,
      capturedAt: outcome.kind === 'captured' ? outcome.capturedAt : null,
    });
    if (decision.publish === 'completed') await announceCapture(tx, settled);
    if (decision.publish === 'failed') await announceFailure(tx, payment, decision.reason!);
    return { from: payment.status, to: settled.status, inDoubtSince: payment.inDoubtSince };
  });
}

/** The provider never saw the charge and the hold is still on: back to PROCESSING, to be charged again. */
export async function chargeAgain(pool: Pool, paymentId: string, attempt: number): Promise<boolean> {
  return withTransaction(pool, async (tx) => {
    const payment = await lockPayment(tx, paymentId);
    if (payment?.status !== 'IN_DOUBT' || payment.attempts !== attempt) return false;
    await transitionPayment(tx, payment, 'retry');
    return true;
  });
}
