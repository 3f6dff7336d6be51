import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { MESSAGE_SCHEMAS, type MessageData } from './messages.ts';
import { ALL_TOPICS, type Topic } from './topics.ts';

/** Every saga message: id, type, version, key and timestamp around the payload. */
export const envelopeSchema = z.object({
  id: z.uuid(),
  type: z.enum(ALL_TOPICS as [Topic, ...Topic[]]),
  version: z.number().int().positive(),
  key: z.string().min(1),
  occurredAt: z.iso.datetime({ offset: true }),
  data: z.unknown(),
});

export interface Envelope<T extends Topic = Topic> {
  id: string;
  type: T;
  version: number;
  key: string;
  occurredAt: string;
  data: MessageData<T>;
}

export class ContractViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractViolation';
  }
}

function payloadSchema(type: Topic, version: number): z.ZodType {
  const schema = (MESSAGE_SCHEMAS[type] as Record<number, z.ZodType>)[version];
  if (schema === undefined) throw new ContractViolation(`${type} has no version ${version}`);
  return schema;
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Builds a message and validates it, so a service can never publish what its consumers would reject. */
export function newMessage<T extends Topic>(
  type: T,
  key: string,
  data: MessageData<T>,
  now = new Date(),
): Envelope<T> {
  const parsed = payloadSchema(type, 1).safeParse(data);
  if (!parsed.success) throw new ContractViolation(`invalid ${type} payload: ${describe(parsed.error)}`);
  return {
    id: randomUUID(),
    type,
    version: 1,
    key,
    occurredAt: now.toISOString(),
    data: parsed.data as MessageData<T>,
  };
}

/**
 * No saga message comes near this (the largest, a reservation of 20 seats, is under 2 KiB): anything bigger was
 * not written by a producer of this contract, and is refused before it is parsed.
 */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/** Parses raw bytes from Kafka into a validated message of the expected topic. */
export function parseMessage<T extends Topic>(expected: T, raw: Buffer | string): Envelope<T> {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > MAX_MESSAGE_BYTES) {
    throw new ContractViolation(`${expected}: message of ${size} bytes; at most ${MAX_MESSAGE_BYTES}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString());
  } catch {
    throw new ContractViolation(`${expected}: message is not JSON`);
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success)
    throw new ContractViolation(`${expected}: bad envelope: ${describe(envelope.error)}`);
  if (envelope.data.type !== expected) {
    throw new ContractViolation(`${expected}: carries a message of type ${envelope.data.type}`);
  }
  const data = payloadSchema(expected, envelope.data.version).safeParse(envelope.data.data);
  if (!data.success)
    throw new ContractViolation(`${expected} v${envelope.data.version}: ${describe(data.error)}`);
  return { ...envelope.data, type: expected, data: data.data as MessageData<T> };
}
