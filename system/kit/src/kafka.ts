import { randomUUID } from 'node:crypto';
import {
  Admin,
  Consumer,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import { deadLetterTopic, SAGA_PARTITIONS } from '@reservex/contracts';

export type StringProducer = Producer<string, string, string, string>;

/**
 * Idempotent (the broker drops a retried batch it already has) and acks=all: a publish the relay counts as done
 * is on the log.
 */
export function createProducer(brokers: string[], clientId: string): StringProducer {
  return new Producer({
    clientId,
    bootstrapBrokers: brokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    serializers: stringSerializers,
    retries: 5,
  });
}

/** Creates the topics and their dead-letter twins when missing; safe to call from every instance at start. */
export async function ensureTopics(
  brokers: string[],
  topics: readonly string[],
  clientId: string,
  prefix = '',
): Promise<void> {
  const admin = new Admin({ clientId, bootstrapBrokers: brokers });
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = [
      ...new Set(topics.flatMap((t) => [`${prefix}${t}`, deadLetterTopic(`${prefix}${t}`)])),
    ].filter((t) => !existing.has(t));
    if (wanted.length === 0) return;
    await admin
      // The broker's default.replication.factor: 1 on the development broker, 3 on a three-node cluster.
      .createTopics({ topics: wanted, partitions: SAGA_PARTITIONS })
      .catch((error: Error) => {
        // Another instance created them first.
        if (
          !/already exists/i.test(
            `${error.message} ${JSON.stringify((error as { errors?: unknown }).errors ?? '')}`,
          )
        ) {
          throw error;
        }
      });
  } finally {
    await admin.close();
  }
}

// Kafka's answers that the record itself can never be accepted: the same bytes are refused on every attempt,
// whatever else is mended meanwhile. Everything else (authorisation, an unknown or invalid topic, a leader moving,
// timeouts, a producer or topic misconfigured, a timestamp out of range: the producer stamps a fresh one on each
// attempt) is the world around the record, which an operator or time can mend, so the record waits for it.
const NEVER_ACCEPTED = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
]);

/** The protocol error ids inside an error from the Kafka client (it nests them in AggregateErrors). */
export function kafkaErrorIds(error: unknown): string[] {
  const ids: string[] = [];
  const seen = new Set<unknown>();
  const walk = (e: unknown) => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return;
    seen.add(e);
    const { apiId, errors, cause } = e as { apiId?: unknown; errors?: unknown; cause?: unknown };
    if (typeof apiId === 'string') ids.push(apiId);
    if (Array.isArray(errors)) for (const inner of errors) walk(inner);
    walk(cause);
  };
  walk(error);
  return ids;
}

/** What to do with a message Kafka did not take: wait and send it again, or set it aside for an operator. */
export type PublishFailure = 'retry' | 'set-aside';

/**
 * Only a record Kafka can never accept as it is (too large, malformed) is set aside; anything else, an error
 * without a Kafka answer included, is retried, because setting a message aside loses it until someone acts.
 */
export function publishFailure(error: unknown): PublishFailure {
  return kafkaErrorIds(error).some((id) => NEVER_ACCEPTED.has(id)) ? 'set-aside' : 'retry';
}

export interface TopicRecord {
  partition: number;
  offset: bigint;
  key: string;
  value: string;
  headers: Map<string, string>;
}

/**
 * Every record of a topic, from the start to its end as it was when called, read with a throwaway consumer group
 * so no real group's offsets move. For tools and tests (the dead-letter tool reads dead letters with it).
 */
export async function readTopicToEnd(brokers: string[], topic: string): Promise<TopicRecord[]> {
  const consumer = new Consumer({
    clientId: 'topic-reader',
    groupId: `topic-reader-${randomUUID()}`,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
    maxWaitTime: 200,
  });
  try {
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const total = ends.reduce((n, end) => n + Number(end), 0);
    const records: TopicRecord[] = [];
    if (total === 0) return records;
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    try {
      for await (const m of stream) {
        records.push({
          partition: m.partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
          headers: m.headers,
        });
        if (records.length >= total) break;
      }
    } finally {
      await stream.close();
    }
    return records;
  } finally {
    await consumer.close(true);
  }
}

/** Deletes every topic whose name starts with `prefix` (a test stack's own), so the broker does not pile them up. */
export async function deleteTopicsWithPrefix(brokers: string[], prefix: string): Promise<void> {
  if (prefix === '') throw new Error('refusing to delete every topic: give a prefix');
  const admin = new Admin({ clientId: 'topic-cleanup', bootstrapBrokers: brokers });
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  } finally {
    await admin.close();
  }
}
