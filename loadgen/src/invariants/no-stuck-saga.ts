import { type InvariantCheck, verdict } from './types.ts';

export const noStuckSaga: InvariantCheck = {
  name: 'no-stuck-saga',
  title: 'No saga stuck after quiescence',
  async run({ ticket, payment, eventId }) {
    const pending = await ticket.query(
      "SELECT id, expires_at FROM reservations WHERE event_id = $1 AND status = 'PENDING'",
      [eventId],
    );
    const processing = await payment.query(
      "SELECT reservation_id, status FROM payments WHERE event_id = $1 AND status IN ('PROCESSING', 'IN_DOUBT', 'REFUNDING')",
      [eventId],
    );
    const outbox = await Promise.all([
      ticket.query(
        "SELECT 'ticket' AS service, count(*)::int AS unpublished, count(rejected_at)::int AS rejected FROM outbox WHERE published_at IS NULL",
      ),
      payment.query(
        "SELECT 'payment' AS service, count(*)::int AS unpublished, count(rejected_at)::int AS rejected FROM outbox WHERE published_at IS NULL",
      ),
    ]);
    const violations: unknown[] = [
      ...pending.rows.map((r) => ({ reservationId: r.id, problem: 'still PENDING' })),
      ...processing.rows.map((p) => ({
        reservationId: p.reservation_id,
        problem: `payment still ${p.status}`,
      })),
      ...outbox.flatMap((o) => o.rows.filter((r) => r.unpublished > 0)),
    ];
    return verdict(
      violations,
      'no PENDING reservation, no payment PROCESSING, IN_DOUBT or REFUNDING, every outbox drained (none refused by Kafka)',
      (n) => `${n} stuck item(s)`,
    );
  },
};
