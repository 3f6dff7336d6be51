import { type Envelope, type MessageData, newMessage, type Topic } from '@reservex/contracts';
import { createProducer } from '../kafka.ts';
import { testInfra } from './test-infra.ts';

/**
 * Plays the other side of the saga in a one-service test: builds a valid message and puts it on the stack's own
 * topic, as the other service's outbox relay would.
 */
export function sagaPublisher(topicPrefix: string) {
  const producer = createProducer(testInfra().kafkaBrokers.split(','), 'saga-test-publisher');
  return {
    async publish<T extends Topic>(topic: T, key: string, data: MessageData<T>): Promise<Envelope<T>> {
      const message = newMessage(topic, key, data);
      await producer.send({
        messages: [
          {
            topic: `${topicPrefix}${topic}`,
            key,
            value: JSON.stringify(message),
            headers: { 'message-id': message.id },
          },
        ],
      });
      return message;
    },
    close: () => producer.close(),
  };
}
