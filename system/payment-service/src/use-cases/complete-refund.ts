import { type Pool, withTransaction } from '@reservex/kit';
import { announceRefund } from '../store/outbox-messages.ts';
import { lockPayment, transitionPayment } from '../store/payments.ts';

/** The gateway confirmed a refund: REFUNDED, and saga.payment.refunded tells ticket-service. */
export async function completeRefund(pool: Pool, paymentId: string): Promise<void> {
  await withTransaction(pool, async (tx) => {
    const payment = await lockPayment(tx, paymentId);
    if (payment?.status !== 'REFUNDING') return;
    await transitionPayment(tx, payment, 'refunded');
    await announceRefund(tx, payment);
  });
}
