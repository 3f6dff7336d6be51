import { TOPICS } from '@reservex/contracts';
import { type InvariantCheck, verdict } from './types.ts';

/**
 * How many outbox messages of each topic one reservation may cause: one per transition, as the saga is written
 * (docs/saga.md). A cancellation may be said again once for each distinct late payment.completed (so the capture
 * is refunded), never for a copy of the same message.
 */
const ONE_PER_TRANSITION: readonly string[] = [
  TOPICS.reservationCreated,
  TOPICS.reservationConfirmed,
  TOPICS.paymentCompleted,
  TOPICS.paymentFailed,
  TOPICS.paymentRefunded,
];

/**
 * Exactly-once effects, judged from what the databases wrote (their WAL, read by the run's own change capture),
 * not from what the services say: every message the services consumed was recorded as applied once (a second
 * write of its id in `processed_messages` is a copy the inbox let through, whatever the state machines then
 * absorbed), and every transition was announced once. The harness redelivers copies of saga messages on purpose,
 * so the check has something to judge in every run that redelivers.
 */
export const messageEffectsOnce: InvariantCheck = {
  name: 'message-effects-once',
  title: 'Each message applied once, each transition announced once',
  async run({ ticket, eventId, wire, changes, changesUnavailable }) {
    if (changes === undefined)
      return { verdict: 'SKIP', detail: changesUnavailable ?? 'no change log for this run', examples: [] };
    if (wire === undefined) return { verdict: 'SKIP', detail: 'Kafka was not read', examples: [] };
    const { rows } = await ticket.query('SELECT id::text FROM reservations WHERE event_id = $1', [eventId]);
    const reservations = new Set(rows.map((r) => r.id as string));
    const violations: unknown[] = [];
    let applied = 0;
    let announced = 0;
    for (const [service, log] of changes) {
      const writes = new Map<string, string[]>();
      const outbox = new Map<string, number>();
      for (const c of log) {
        if (c.table === 'processed_messages') {
          const id = c.row.message_id ?? '';
          if (wire.ids.has(id)) writes.set(id, [...(writes.get(id) ?? []), c.kind]);
        } else if (c.table === 'outbox' && c.kind === 'insert' && reservations.has(c.row.key ?? '')) {
          const slot = `${c.row.key}|${c.row.topic}`;
          outbox.set(slot, (outbox.get(slot) ?? 0) + 1);
        }
      }
      for (const [messageId, kinds] of writes) {
        applied++;
        if (kinds.length > 1)
          violations.push({
            service,
            messageId,
            writes: kinds,
            problem: `applied ${kinds.length} times: the inbox let a copy of it through`,
          });
      }
      for (const [slot, n] of outbox) {
        announced += n;
        const [reservationId, topic] = slot.split('|') as [string, string];
        const completions = new Set(
          (wire.byTopic.get(TOPICS.paymentCompleted) ?? [])
            .filter((m) => m.reservationId === reservationId)
            .map((m) => m.id),
        ).size;
        const allowed = ONE_PER_TRANSITION.includes(topic) ? 1 : 1 + completions;
        if (n > allowed)
          violations.push({
            service,
            reservationId,
            topic,
            messages: n,
            allowed,
            problem: `${n} ${topic} message(s) for one reservation, at most ${allowed} as the saga is written`,
          });
      }
    }
    return verdict(
      violations,
      `${applied} message id(s) recorded as applied once each (${wire.ids.size} on the wire, with the harness's redelivered copies dropped), ${announced} outbox message(s), none beyond one per transition`,
      (n) => `${n} message(s) applied more than once or announced beyond one per transition`,
    );
  },
};
