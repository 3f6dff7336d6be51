import { eventStart, moneyAtProvider } from './provider-ledger.ts';
import { type InvariantCheck, verdict } from './types.ts';

/**
 * RPO, judged from the harness's own record of what fans were told, not from the databases' view of themselves:
 * every booking a fan got a 202 for still exists with its seats, and every booking a fan was shown CONFIRMED is
 * still CONFIRMED (or cancelled at that fan's own request), with its payment captured at payment-service and a capture in the
 * provider's ledger. A failover that promoted a standby without the last acknowledged commits fails here, even
 * when the lost rows leave the survivors consistent among themselves.
 */
export const acknowledgedKept: InvariantCheck = {
  name: 'acknowledged-kept',
  title: 'Every acknowledged booking and payment survives (RPO 0)',
  async run({ ticket, payment, provider, eventId, acknowledged }) {
    if (acknowledged === undefined)
      return {
        verdict: 'SKIP',
        detail:
          'a re-check has no record of what the fans were answered: it is kept only while the run lasts',
        examples: [],
      };
    const ids = acknowledged.map((b) => b.id);
    const [bookings, payments] = await Promise.all([
      ticket.query(
        `SELECT r.id::text, r.status, r.reason,
                COALESCE(array_agg(rs.seat_id::text ORDER BY rs.seat_id) FILTER (WHERE rs.seat_id IS NOT NULL), '{}') AS seats
         FROM reservations r LEFT JOIN reservation_seats rs ON rs.reservation_id = r.id
         WHERE r.event_id = $1 AND r.id = ANY($2::uuid[]) GROUP BY r.id, r.status, r.reason`,
        [eventId, ids],
      ),
      payment.query(
        `SELECT reservation_id::text, array_agg(status::text) AS statuses FROM payments
         WHERE event_id = $1 AND reservation_id = ANY($2::uuid[]) GROUP BY reservation_id`,
        [eventId, ids],
      ),
    ]);
    const booking = new Map(bookings.rows.map((r) => [r.id as string, r]));
    const paymentStatuses = new Map(
      payments.rows.map((r) => [r.reservation_id as string, r.statuses as string[]]),
    );
    const confirmedIds = acknowledged.filter((b) => b.confirmedAt !== undefined).map((b) => b.id);
    const money =
      provider === undefined
        ? undefined
        : await moneyAtProvider(provider, confirmedIds, await eventStart(ticket, eventId));
    const violations: unknown[] = [];
    for (const b of acknowledged) {
      const row = booking.get(b.id);
      const seen = { reservationId: b.id, acknowledgedAt: new Date(b.at).toISOString() };
      if (row === undefined) {
        violations.push({ ...seen, problem: 'acknowledged to its fan, and gone' });
        continue;
      }
      if ([...b.seatIds].sort().join() !== row.seats.join())
        violations.push({ ...seen, problem: `acknowledged for seats ${b.seatIds}, now lists ${row.seats}` });
      if (b.confirmedAt === undefined) continue;
      const confirmed = { ...seen, confirmedAt: new Date(b.confirmedAt).toISOString() };
      const fanCancelled = b.cancelAskedAt !== undefined && row.reason === 'user-cancelled';
      if (row.status !== 'CONFIRMED' && !(fanCancelled && row.status === 'CANCELLED'))
        violations.push({ ...confirmed, problem: `shown CONFIRMED to its fan, now ${row.status}` });
      const statuses = paymentStatuses.get(b.id) ?? [];
      if (!statuses.includes('CAPTURED') && !(fanCancelled && statuses.includes('REFUNDED')))
        violations.push({
          ...confirmed,
          problem: `shown CONFIRMED, and payment-service has ${statuses.length === 0 ? 'no payment' : statuses.join(', ')}`,
        });
      if (money !== undefined && (money.get(b.id)?.captures.length ?? 0) === 0)
        violations.push({ ...confirmed, problem: 'shown CONFIRMED, and the provider has no capture for it' });
    }
    return verdict(
      violations,
      `${acknowledged.length} booking(s) acknowledged to fans, ${confirmedIds.length} shown CONFIRMED: every one still there with its seats, every confirmed one still confirmed (or cancelled by its fan) with its payment captured${provider === undefined ? '' : ' and in the provider’s ledger'}`,
      (n) => `${n} acknowledged booking(s) or payment(s) lost or changed behind their fans' backs`,
    );
  },
};
