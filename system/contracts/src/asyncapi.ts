import { z } from 'zod';
import { envelopeSchema, MAX_MESSAGE_BYTES } from './envelope.ts';
import { MESSAGE_SCHEMAS } from './messages.ts';
import { RESERVATION_SAGA, topicsConsumedBy } from './saga.ts';
import { ALL_TOPICS, deadLetterTopic, SAGA_PARTITIONS, type Topic } from './topics.ts';

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });
  return rest;
}

/** `saga.payment.completed` as an AsyncAPI id: `sagaPaymentCompleted`. */
function idOf(topic: string): string {
  return topic
    .split(/[.-]/)
    .map((part, i) => (i === 0 ? part : part.charAt(0).toUpperCase() + part.slice(1)))
    .join('');
}

function producerOf(topic: Topic): string {
  const step = RESERVATION_SAGA.find((s) => s.emits.includes(topic));
  if (step !== undefined) return step.participant;
  return (
    RESERVATION_SAGA.find((s) => s.compensation?.emits === topic)?.compensation?.participant ?? 'unknown'
  );
}

const HEADERS = {
  type: 'object',
  properties: {
    'message-id': {
      type: 'string',
      format: 'uuid',
      description: 'The envelope id: consumers drop a message whose id they have applied',
    },
    traceparent: { type: 'string', description: 'W3C trace context of the work that wrote the message' },
    tracestate: { type: 'string' },
  },
  required: ['message-id'],
};

const DLT_HEADERS = {
  type: 'object',
  description: 'The original headers, and why the message could not be applied',
  properties: {
    'dlt-original-topic': { type: 'string' },
    'dlt-original-partition': { type: 'string' },
    'dlt-original-offset': { type: 'string' },
    'dlt-error': { type: 'string', maxLength: 1000 },
    'dlt-attempts': { type: 'string' },
    'dlt-failed-at': { type: 'string', format: 'date-time' },
    'dlt-group': { type: 'string', description: 'The consumer group that gave up on it' },
  },
  required: ['dlt-original-topic', 'dlt-original-partition', 'dlt-original-offset', 'dlt-error', 'dlt-group'],
};

/**
 * The AsyncAPI 3.0 document of the saga's Kafka contract, from the same zod schemas producers build messages
 * with and consumers parse them with: a channel per topic and its dead-letter topic, the envelope with each
 * payload version, the key, the headers, and which service sends and which receives.
 */
export function asyncApiDocument() {
  const channels: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const envelope = jsonSchema(envelopeSchema);
  for (const topic of ALL_TOPICS) {
    const id = idOf(topic);
    const versions = MESSAGE_SCHEMAS[topic] as Record<number, z.ZodType>;
    const current = Math.max(...Object.keys(versions).map(Number));
    messages[id] = {
      name: topic,
      title: topic,
      contentType: 'application/json',
      headers: HEADERS,
      payload: {
        ...envelope,
        properties: {
          ...(envelope.properties as object),
          type: { const: topic },
          version: { type: 'integer', enum: Object.keys(versions).map(Number) },
          data: jsonSchema(versions[current] as z.ZodType),
        },
      },
      bindings: {
        kafka: {
          key: {
            type: 'string',
            format: 'uuid',
            description: 'The reservation id: one reservation’s messages stay in order',
          },
        },
      },
    };
    channels[id] = {
      address: topic,
      description: `Produced by ${producerOf(topic)}; ${SAGA_PARTITIONS} partitions, keyed by reservation id.`,
      messages: { [id]: { $ref: `#/components/messages/${id}` } },
      bindings: { kafka: { topic, partitions: SAGA_PARTITIONS } },
    };
    channels[`${id}Dlt`] = {
      address: deadLetterTopic(topic),
      description: `Messages of ${topic} a consumer could not apply (malformed, of an unknown version, or failing for good), as they arrived.`,
      messages: {
        [`${id}DeadLetter`]: {
          name: `${topic} dead letter`,
          contentType: 'application/octet-stream',
          headers: DLT_HEADERS,
          payload: { description: 'The original bytes, whatever they were' },
        },
      },
    };
    operations[`send${id.charAt(0).toUpperCase()}${id.slice(1)}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${id}` },
      summary: `${producerOf(topic)} publishes ${topic} from its outbox`,
      messages: [{ $ref: `#/channels/${id}/messages/${id}` }],
    };
    for (const consumer of ['ticket-service', 'payment-service'] as const) {
      if (!topicsConsumedBy(consumer).includes(topic)) continue;
      operations[
        `${consumer === 'ticket-service' ? 'ticket' : 'payment'}Receives${id.charAt(0).toUpperCase()}${id.slice(1)}`
      ] = {
        action: 'receive',
        channel: { $ref: `#/channels/${id}` },
        summary: `${consumer} applies ${topic} once per message id`,
        messages: [{ $ref: `#/channels/${id}/messages/${id}` }],
      };
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'ReserveX booking saga',
      version: '1.0.0',
      description: `The messages ticket-service and payment-service exchange over Kafka. Every message is an envelope (id, type, version, key, occurredAt, data) of at most ${MAX_MESSAGE_BYTES} bytes; a consumer refuses a version it does not know and dead-letters what it cannot apply.`,
    },
    defaultContentType: 'application/json',
    servers: {
      local: {
        host: '127.0.0.1:9092',
        protocol: 'kafka',
        description: 'The local-mode broker (npm run infra:up)',
      },
    },
    channels,
    operations,
    components: { messages },
  };
}
