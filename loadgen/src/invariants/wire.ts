import { randomUUID } from 'node:crypto';
import { Consumer, stringDeserializers } from '@platformatic/kafka';
import { TOPICS } from '@reservex/contracts';
import type { WireMessages } from './types.ts';

const SAGA_TOPICS: readonly string[] = Object.values(TOPICS);

/**
 * Reads every saga topic from the start to its current end, keeping the messages of the given reservations.
 * Uses a throwaway consumer group, so it never disturbs the services' offsets.
 */
export async function readWire(
  brokers: string[],
  prefix: string,
  reservationIds: ReadonlySet<string>,
): Promise<WireMessages> {
  const byTopic: WireMessages['byTopic'] = new Map();
  const ids = new Set<string>();
  const consumer = new Consumer({
    clientId: 'invariant-checker',
    groupId: `invariant-checker-${randomUUID()}`,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
    maxWaitTime: 200,
  });
  try {
    const topics = SAGA_TOPICS.map((t) => `${prefix}${t}`);
    const ends = await consumer.listOffsets({ topics });
    let remaining = [...ends.values()].flat().reduce((n, o) => n + Number(o), 0);
    if (remaining === 0) return { byTopic, ids };
    const stream = await consumer.consume({ topics, mode: 'earliest', autocommit: false });
    try {
      for await (const m of stream) {
        remaining--;
        try {
          const message = JSON.parse(m.value) as { id: string; type: string; data: Record<string, unknown> };
          const reservationId = String(message.data?.reservationId ?? '');
          if (reservationIds.has(reservationId)) {
            const list = byTopic.get(message.type) ?? [];
            list.push({ reservationId, id: message.id, data: message.data });
            ids.add(message.id);
            byTopic.set(message.type, list);
          }
        } catch {
          // Not the checker's business: malformed messages are the consumers' (they dead-letter them).
        }
        if (remaining <= 0) break;
      }
    } finally {
      await stream.close();
    }
    return { byTopic, ids };
  } finally {
    await consumer.close(true);
  }
}
