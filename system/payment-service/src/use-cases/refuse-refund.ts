import { type Pool, withTransaction } from '@reservex/kit';
import { lockPayment, transitionPayment } from '../store/payments.ts';

/**
 * The provider refused a refund for good: REFUND_REFUSED, with its reason, and asked no more. Nothing is
 * published: the money was not given back, so there is no payment.refunded to announce; the refusal is for an
 * operator (the gauge, the alert, `npm run payments -- refused`). False when the payment was no longer REFUNDING.
 */
export async function refuseRefund(pool: Pool, paymentId: string, reason: string): Promise<boolean> {
  return withTransaction(pool, async (tx) => {
    const payment = await lockPayment(tx, paymentId);
    if (payment?.status !== 'REFUNDING') return false;
    await transitionPayment(tx, payment, 'refund-refused', { reason });
    return true;
  });
}
