import { type Pool, withTransaction } from '@reservex/kit';
import { type ChargeOutcome, onChargeOutcome } from '../domain/payment-saga.ts';
import { isCancelled } from '../store/cancellations.ts';
import { announceCapture, announceFailure } from '../store/outbox-messages.ts';
import { lockPayment, transitionPayment } from '../store/payments.ts';

/**
 * Records what the gateway answered, with the saga message it causes, in one transaction. A capture for a
 * reservation that was cancelled meanwhile (a late payment), or for a payment already FAILED, goes to REFUNDING:
 * the refunder gives the money back.
 */
export async function settleCharge(
  pool: Pool,
  paymentId: string,
  outcome: ChargeOutcome,
  attempt: number,
): Promise<void> {
  await withTransaction(pool, async (tx) => {
    const payment = await lockPayment(tx, paymentId);
    if (payment === undefined) return;
    const cancelled = await isCancelled(tx, payment.reservationId);
    const decision = onChargeOutcome(payment, outcome, { attempt, cancelled });
    if (decision.kind === 'nothing') return;
    await transitionPayment(tx, payment, decision.transition, decision.reason);
    if (decision.publish === 'completed') await announceCapture(tx, payment);
    if (decision.publish === 'failed') await announceFailure(tx, payment, decision.reason!);
  });
}
