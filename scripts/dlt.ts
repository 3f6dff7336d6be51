// npm run dlt -- list <topic> | replay <topic> [--message-id ID] [--brokers host:port]
// <topic> is a saga topic (saga.payment.completed) or its dead-letter topic (saga.payment.completed.dlt).
import { parseArgs } from 'node:util';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { readTopicToEnd } from '@reservex/kit';

export interface DeadLetter {
  offset: string;
  partition: number;
  key: string;
  messageId: string | undefined;
  originalTopic: string;
  error: string;
  attempts: string;
  failedAt: string;
  value: string;
}

/** Reads a dead-letter topic from the start to its current end, without joining any real consumer group. */
export async function readDeadLetters(brokers: string[], topic: string): Promise<DeadLetter[]> {
  const dlt = topic.endsWith('.dlt') ? topic : `${topic}.dlt`;
  return (await readTopicToEnd(brokers, dlt)).map((m) => {
    const h = m.headers;
    return {
      offset: String(m.offset),
      partition: m.partition,
      key: m.key,
      messageId: h.get('message-id') ?? tryMessageId(m.value),
      originalTopic: h.get('dlt-original-topic') ?? dlt.slice(0, -'.dlt'.length),
      error: h.get('dlt-error') ?? '',
      attempts: h.get('dlt-attempts') ?? '',
      failedAt: h.get('dlt-failed-at') ?? '',
      value: m.value,
    };
  });
}

function tryMessageId(value: string): string | undefined {
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
          ...(l.messageId ? { 'message-id': l.messageId } : {}),
        },
      })),
    });
    return letters.length;
  } finally {
    await producer.close();
  }
}

const USAGE = `usage: npm run dlt -- <list|replay> <topic> [--message-id ID] [--brokers host:port[,host:port]]
  list    print every dead letter of the topic: where it came from, why it failed, its message id
  replay  publish the dead letters (or only --message-id) back to the original topic`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'message-id': { type: 'string' },
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
    (l) => values['message-id'] === undefined || l.messageId === values['message-id'],
  );
  if (command === 'list') {
    for (const l of letters) {
      console.log(
        `${l.partition}/${l.offset}  message ${l.messageId ?? '(unparseable)'}  from ${l.originalTopic}  after ${l.attempts} attempt(s) at ${l.failedAt}\n    ${l.error}`,
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
