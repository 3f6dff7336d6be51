import { topicsConsumedBy } from '@reservex/contracts';
import { type InvariantCheck, verdict } from './types.ts';

/**
 * Every saga message either service recorded in its outbox for the event reached Kafka, and every one meant for
 * the other side was applied there (or recognised as a duplicate). A lost payment.completed or cancellation
 * would otherwise heal quietly through expiry. A message the relay set aside (Kafka can never accept it) fails the
 * check however the run ended: nothing times out on it, and a set-aside cancellation of a paid booking is a
 * refund never made.
 */
export const everyMessageDelivered: InvariantCheck = {
  name: 'every-message-delivered',
  title: 'Every saga message delivered and consumed',
  async run({ ticket, payment, eventId, wire }) {
    const reservations = (
      await ticket.query('SELECT id::text FROM reservations WHERE event_id = $1', [eventId])
    ).rows.map((r) => r.id as string);
    const violations: unknown[] = [];
    let recorded = 0;
    const consumers = [
      {
        from: ticket,
        outbox: 'ticket-service',
        to: payment,
        side: 'payment-service',
        consumes: topicsConsumedBy('payment-service'),
      },
      {
        from: payment,
        outbox: 'payment-service',
        to: ticket,
        side: 'ticket-service',
        consumes: topicsConsumedBy('ticket-service'),
      },
    ] as const;
    for (const { from, outbox, to, side, consumes } of consumers) {
      const recordedHere = await from.query(
        `SELECT id AS row_id, message_id::text AS id, topic, key, published_at IS NULL AND rejected_at IS NOT NULL AS set_aside,
                last_error
         FROM outbox WHERE key = ANY($1::text[]) ORDER BY id`,
        [reservations],
      );
      recorded += recordedHere.rowCount ?? 0;
      for (const m of recordedHere.rows)
        if (m.set_aside)
          violations.push({
            reservationId: m.key,
            problem: `${m.topic} ${m.id} set aside in ${outbox}'s outbox (row #${m.row_id}, ${m.last_error ?? 'no error recorded'}): never sent; npm run outbox -- list ${outbox}`,
          });
      // A set-aside message is reported above, once, rather than again as never on Kafka and never consumed.
      const sent = recordedHere.rows.filter((m) => !m.set_aside);
      if (wire !== undefined)
        for (const m of sent)
          if (!wire.ids.has(m.id))
            violations.push({ reservationId: m.key, problem: `${m.topic} ${m.id} recorded, never on Kafka` });
      const meant = sent.filter((m) => (consumes as readonly string[]).includes(m.topic));
      const seen = new Set(
        (
          await to.query(
            'SELECT message_id::text AS id FROM processed_messages WHERE message_id = ANY($1::uuid[])',
            [meant.map((m) => m.id)],
          )
        ).rows.map((r) => r.id as string),
      );
      for (const m of meant)
        if (!seen.has(m.id))
          violations.push({ reservationId: m.key, problem: `${m.topic} ${m.id} never consumed by ${side}` });
    }
    // Every reservation reached Kafka: the outbox lost none.
    if (wire !== undefined) {
      const published = new Set(
        (wire.byTopic.get('saga.reservation.created') ?? []).map((e) => e.reservationId),
      );
      for (const id of reservations)
        if (!published.has(id)) violations.push({ reservationId: id, problem: 'never published to Kafka' });
    }
    return verdict(
      violations,
      `${recorded} saga message(s) recorded in the outboxes${wire === undefined ? '' : ', every one on Kafka'}, and each one meant for the other side consumed there`,
      (n) => `${n} saga message(s) lost on the way`,
    );
  },
};
