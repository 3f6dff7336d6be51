import { Admin, ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
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
      .createTopics({ topics: wanted, partitions: SAGA_PARTITIONS, replicas: 1 })
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
