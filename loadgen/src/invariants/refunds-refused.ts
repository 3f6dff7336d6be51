import { type InvariantCheck, verdict } from './types.ts';

/**
 * A refund the provider refused for good (REFUND_REFUSED) is final for payment-service, but the money it owed back
 * was kept: the run fails, naming each one with the provider's reason, until an operator has dealt with it.
 */
export const noRefundRefused: InvariantCheck = {
  name: 'no-refund-refused',
  title: 'No refund refused by the provider',
  async run({ payment, eventId }) {
    const refused = await payment.query(
      `SELECT reservation_id::text, amount, refund_refusal, refund_refused_at FROM payments
       WHERE event_id = $1 AND status = 'REFUND_REFUSED' ORDER BY refund_refused_at`,
      [eventId],
    );
    const owed = refused.rows.reduce((sum, r) => sum + Number(r.amount), 0);
    return verdict(
      refused.rows.map((r) => ({
        reservationId: r.reservation_id,
        amount: Number(r.amount),
        reason: r.refund_refusal,
        refusedAt: r.refund_refused_at,
        problem: `the provider refused the refund (${r.refund_refusal}): ${r.amount} kept without a ticket`,
      })),
      'every refund asked of the provider was made (none REFUND_REFUSED)',
      (n) =>
        `${n} refund(s) refused by the provider for good, ${owed} kept without a ticket (npm run payments -- refused)`,
    );
  },
};
