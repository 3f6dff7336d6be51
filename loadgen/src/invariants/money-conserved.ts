import { eventStart, moneyAtProvider } from './provider-ledger.ts';
import { type InvariantCheck, verdict } from './types.ts';

/**
 * What the provider kept (captured less refunded) equals what the confirmed bookings cost. It reads the
 * provider's ledger, the one record of money moved; payment-service's table only when the provider's database
 * is not known (reports from before the provider was a process of its own).
 */
export const moneyConserved: InvariantCheck = {
  name: 'money-conserved',
  title: 'Money conserved',
  async run({ ticket, payment, provider, eventId }) {
    let captured: number;
    let refunded: number;
    let source: string;
    if (provider === undefined) {
      const money = await payment.query(
        `SELECT COALESCE(sum(amount) FILTER (WHERE captured_at IS NOT NULL), 0)::bigint AS captured,
                COALESCE(sum(amount) FILTER (WHERE status = 'REFUNDED'), 0)::bigint AS refunded
         FROM payments WHERE event_id = $1`,
        [eventId],
      );
      captured = Number(money.rows[0].captured);
      refunded = Number(money.rows[0].refunded);
      source = "payment-service's table";
    } else {
      const ids = (
        await ticket.query('SELECT id::text FROM reservations WHERE event_id = $1', [eventId])
      ).rows.map((r) => r.id as string);
      const money = await moneyAtProvider(provider, ids, await eventStart(ticket, eventId));
      captured = 0;
      refunded = 0;
      for (const m of money.values()) {
        for (const c of m.captures) captured += c.amount;
        for (const r of m.refunds) refunded += r.amount;
      }
      source = "the provider's ledger";
    }
    const sold = await ticket.query(
      "SELECT COALESCE(sum(amount), 0)::bigint AS confirmed FROM reservations WHERE event_id = $1 AND status = 'CONFIRMED'",
      [eventId],
    );
    const confirmed = Number(sold.rows[0].confirmed);
    const kept = captured - refunded;
    return verdict(
      kept === confirmed
        ? []
        : [{ captured, refunded, kept, confirmed, difference: kept - confirmed, source }],
      `captured ${captured} − refunded ${refunded} = ${kept} = confirmed ${confirmed} (${source})`,
      () =>
        `captured ${captured} − refunded ${refunded} = ${kept} in ${source}, but confirmed reservations sum to ${confirmed}`,
    );
  },
};
