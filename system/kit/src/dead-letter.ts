import { deadLetterTopic } from '@reservex/contracts';
import type { Counter } from 'prom-client';
import { type BackoffPolicy, backoffDelay, pause } from './backoff.ts';
import type { StringProducer } from './kafka.ts';
import type { Logger } from './logger.ts';
import type { KafkaMessage } from './partition-lanes.ts';

/**
 * A message that breaks a rule and will break it however often it is retried (an amount that does not match,
 * a state that cannot be reached): it goes to the dead-letter topic at once instead of blocking its partition.
 */
export class PermanentMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentMessageError';
  }
}

export interface DeadLetterOptions {
  producer: StringProducer;
  /** The consumer group giving up on the message, named in its headers. */
  groupId: string;
  logger: Logger;
  /** Between attempts to publish it. */
  backoff: BackoffPolicy;
  retries: Counter<'topic' | 'kind'>;
}

/**
 * Publishes the original bytes to `<topic>.dlt`, retrying until the broker takes them: the caller commits the
 * message's offset only after that, so a dead letter that could not be written is never silently skipped.
 * Returns false when the generation ended first: the message is then neither dead-lettered nor committed.
 */
export async function deadLetter(
  message: KafkaMessage,
  error: Error,
  attempts: number,
  generation: AbortSignal,
  options: DeadLetterOptions,
): Promise<boolean> {
  const { producer, groupId, logger, backoff, retries } = options;
  const failedAt = new Date().toISOString();
  logger.error(
    { err: error, topic: message.topic, partition: message.partition, offset: String(message.offset) },
    'dead-lettering',
  );
  for (let attempt = 1; ; attempt++) {
    if (generation.aborted) return false;
    try {
      await producer.send({
        messages: [
          {
            topic: deadLetterTopic(message.topic),
            key: message.key ?? '',
            value: message.value ?? '',
            headers: {
              ...Object.fromEntries(message.headers ?? []),
              'dlt-original-topic': message.topic,
              'dlt-original-partition': String(message.partition),
              'dlt-original-offset': String(message.offset),
              'dlt-error': error.message.slice(0, 1000),
              'dlt-attempts': String(attempts),
              'dlt-failed-at': failedAt,
              'dlt-group': groupId,
            },
          },
        ],
      });
      return true;
    } catch (publishError) {
      retries.inc({ topic: message.topic, kind: 'dead-letter' });
      if (attempt === 1 || attempt % 20 === 0)
        logger.error(
          { err: publishError, topic: message.topic, offset: String(message.offset), attempt },
          'dead-letter publish failed; the partition waits for it',
        );
      await pause(backoffDelay(attempt, backoff), generation);
    }
  }
}
