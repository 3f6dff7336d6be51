import { type InvariantCheck, verdict } from './types.ts';

export const noStuckSaga: InvariantCheck = {
  id: 5,
  name: 'No saga stuck after quiescence',
  async run({ ticket, payment, eventId, wire }) {
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
    // Every reservation reached Kafka: the outbox lost none.
    if (wire !== undefined) {
      const published = new Set(
        (wire.byTopic.get('saga.reservation.created') ?? []).map((e) => e.reservationId),
      );
      const all = await ticket.query('SELECT id FROM reservations WHERE event_id = $1', [eventId]);
      for (const r of all.rows)
        if (!published.has(r.id))
          violations.push({ reservationId: r.id, problem: 'never published to Kafka' });
    }
    // Every saga message one side recorded was applied (or recognised as a duplicate) by the other: an offset
    // committed past a message that was never applied leaves a recorded id the other side never processed.
    const reservations = (
      await ticket.query('SELECT id::text FROM reservations WHERE event_id = $1', [eventId])
    ).rows.map((r) => r.id as string);
    for (const [from, to, topics, side] of [
      [ticket, payment, ['saga.reservation.created', 'saga.reservation.cancelled'], 'payment'],
      [payment, ticket, ['saga.payment.completed', 'saga.payment.failed', 'saga.payment.refunded'], 'ticket'],
    ] as const) {
      const sent = await from.query(
        'SELECT message_id::text AS id, topic, key FROM outbox WHERE key = ANY($1::text[]) AND topic = ANY($2::text[])',
        [reservations, topics],
      );
      const ids = sent.rows.map((r) => r.id as string);
      const seen = new Set(
        (
          await to.query(
            'SELECT message_id::text AS id FROM processed_messages WHERE message_id = ANY($1::uuid[])',
            [ids],
          )
        ).rows.map((r) => r.id as string),
      );
      for (const m of sent.rows)
        if (!seen.has(m.id))
          violations.push({
            reservationId: m.key,
            problem: `${m.topic} ${m.id} never consumed by ${side}-service`,
          });
    }
    return verdict(
      violations,
      'no PENDING reservation, no payment PROCESSING, IN_DOUBT or REFUNDING, every outbox drained (none refused by Kafka), every reservation on Kafka, every saga message consumed by the other side',
      (n) => `${n} stuck item(s)`,
    );
  },
};
