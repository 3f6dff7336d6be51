// npm run dlt -- list <topic> | replay <topic> [--event-id ID] [--brokers host:port]
// <topic> is a saga topic (saga.payment.completed) or its dead-letter topic (saga.payment.completed.dlt).
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';

export interface DeadLetter {
  offset: string;
  partition: number;
  key: string;
  eventId: string | undefined;
  originalTopic: string;
  error: string;
  attempts: string;
  failedAt: string;
  value: string;
}

/** Reads a dead-letter topic from the start to its current end, without joining any real consumer group. */
export async function readDeadLetters(brokers: string[], topic: string): Promise<DeadLetter[]> {
  const dlt = topic.endsWith('.dlt') ? topic : `${topic}.dlt`;
  const consumer = new Consumer({
    clientId: 'dlt-tool',
    groupId: `dlt-tool-${randomUUID()}`,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
    maxWaitTime: 200,
  });
  try {
    const offsets = await consumer.listOffsets({ topics: [dlt] });
    const ends = offsets.get(dlt) ?? [];
    const total = ends.reduce((n, end) => n + Number(end), 0);
    const letters: DeadLetter[] = [];
    if (total === 0) return letters;
    const stream = await consumer.consume({ topics: [dlt], mode: 'earliest', autocommit: false });
    try {
      for await (const m of stream) {
        const h = m.headers;
        letters.push({
          offset: String(m.offset),
          partition: m.partition,
          key: m.key,
          eventId: h.get('event-id') ?? tryEventId(m.value),
          originalTopic: h.get('dlt-original-topic') ?? dlt.slice(0, -'.dlt'.length),
          error: h.get('dlt-error') ?? '',
          attempts: h.get('dlt-attempts') ?? '',
          failedAt: h.get('dlt-failed-at') ?? '',
          value: m.value,
        });
        if (letters.length >= total) break;
      }
    } finally {
      await stream.close();
    }
    return letters;
  } finally {
    await consumer.close(true);
  }
}

function tryEventId(value: string): string | undefined {
  try {
    const id = JSON.parse(value)?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Publishes dead letters back to their original topic, unchanged, marked as replayed. */
export async function replayDeadLetters(brokers: string[], letters: DeadLetter[]): Promise<number> {
  if (letters.length === 0) return 0;
  const producer = new Producer({
    clientId: 'dlt-tool',
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
  });
  try {
    await producer.send({
      messages: letters.map((l) => ({
        topic: l.originalTopic,
        key: l.key,
        value: l.value,
        headers: {
          'dlt-replayed-from': `${l.originalTopic}.dlt/${l.partition}/${l.offset}`,
          ...(l.eventId ? { 'event-id': l.eventId } : {}),
        },
      })),
    });
    return letters.length;
  } finally {
    await producer.close();
  }
}

const USAGE = `usage: npm run dlt -- <list|replay> <topic> [--event-id ID] [--brokers host:port[,host:port]]
  list    print every dead letter of the topic: where it came from, why it failed, its event id
  replay  publish the dead letters (or only --event-id) back to the original topic`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'event-id': { type: 'string' },
      brokers: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, topic] = positionals;
  if (values.help || command === undefined || topic === undefined || !['list', 'replay'].includes(command)) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const brokers = (values.brokers ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const letters = (await readDeadLetters(brokers, topic)).filter(
    (l) => values['event-id'] === undefined || l.eventId === values['event-id'],
  );
  if (command === 'list') {
    for (const l of letters) {
      console.log(
        `${l.partition}/${l.offset}  event ${l.eventId ?? '(unparseable)'}  from ${l.originalTopic}  after ${l.attempts} attempt(s) at ${l.failedAt}\n    ${l.error}`,
      );
    }
    console.log(`${letters.length} dead letter(s)`);
    return 0;
  }
  const n = await replayDeadLetters(brokers, letters);
  console.log(`replayed ${n} message(s)`);
  return 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(`dlt: ${error.message}`);
      process.exit(1);
    },
  );
}
