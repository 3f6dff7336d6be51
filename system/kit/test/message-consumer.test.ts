import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '@platformatic/kafka';
import { deadLetterTopic, newMessage, TOPICS } from '@reservex/contracts';
import pg from 'pg';
import {
  createLogger,
  createProducer,
  createServiceMetrics,
  createTracing,
  deleteTopicsWithPrefix,
  ensureTopics,
  KIT_MIGRATIONS_DIR,
  MessageConsumer,
  on,
  PermanentMessageError,
  readTopicToEnd,
  runMigrations,
  type StringProducer,
  tracingConfigSchema,
} from '../src/index.ts';
import {
  createTestDatabase,
  type TcpGate,
  type TestDatabase,
  tcpGate,
  testInfra,
  waitFor,
} from '../src/testing/index.ts';

const TOPIC = TOPICS.reservationCancelled;

function cancellation(key: string, wasConfirmed = false, reason: 'expired' | 'user-cancelled' = 'expired') {
  return newMessage(TOPIC, key, { reservationId: key, eventId: randomUUID(), reason, wasConfirmed });
}

type Msg = ReturnType<typeof tagged>;

/** A cancellation whose Kafka key is `tag`, which the test handler records. */
function tagged(tag: string, wasConfirmed = false) {
  return newMessage(TOPIC, tag, {
    reservationId: randomUUID(),
    eventId: randomUUID(),
    reason: 'expired',
    wasConfirmed,
  });
}

describe('the message consumer against real PostgreSQL and Kafka', () => {
  const brokers = testInfra().kafkaBrokers.split(',');
  const metrics = createServiceMetrics('consumer-test');
  const logger = createLogger('consumer-test', (process.env.TEST_LOG_LEVEL as 'silent') ?? 'silent');
  let db: TestDatabase;
  let direct: pg.Pool;
  let viaGate: pg.Pool;
  let gate: TcpGate;
  let producer: StringProducer;
  let consumer: MessageConsumer;
  let prefix: string;

  const outcomes = async (outcome: string) => {
    const metric = await metrics.registry.getSingleMetric('saga_messages_consumed_total')?.get();
    return (metric?.values ?? [])
      .filter((v) => v.labels.outcome === outcome && String(v.labels.topic).startsWith(prefix))
      .reduce((n, v) => n + v.value, 0);
  };
  const applied = async (key: string) =>
    (await direct.query('SELECT applied_at FROM applied WHERE key = $1', [key])).rows[0]?.applied_at as
      | Date
      | undefined;

  before(async function () {
    this.timeout(60_000);
    prefix = `k${randomUUID().slice(0, 8)}.`;
    db = await createTestDatabase('kit_consumer');
    direct = new pg.Pool({ connectionString: db.url, max: 2 });
    await runMigrations(direct, KIT_MIGRATIONS_DIR, logger, 'kit_schema_migrations');
    await direct.query(
      'CREATE TABLE applied (key text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const url = new URL(db.url);
    gate = await tcpGate({ host: url.hostname, port: Number(url.port) });
    url.port = String(gate.port);
    viaGate = new pg.Pool({ connectionString: url.toString(), max: 4, connectionTimeoutMillis: 1000 });
    viaGate.on('error', () => {});
    // The dead-letter topic refuses anything but tiny messages until a test raises the limit: a real broker
    // rejection, so a dead-letter publish genuinely fails.
    const admin = new Admin({ clientId: 'consumer-test', bootstrapBrokers: brokers });
    try {
      await admin.createTopics({
        topics: [deadLetterTopic(`${prefix}${TOPIC}`)],
        partitions: 6,
        replicas: 1,
        configs: [{ name: 'max.message.bytes', value: '600' }],
      });
    } finally {
      await admin.close();
    }
    await ensureTopics(brokers, [TOPIC], 'consumer-test', prefix);
    producer = createProducer(brokers, 'consumer-test');
    consumer = new MessageConsumer({
      groupId: `${prefix}group`,
      clientId: 'consumer-test',
      brokers,
      pool: viaGate,
      producer,
      logger,
      metrics,
      tracer: createTracing('consumer-test', tracingConfigSchema.parse({})).tracer,
      topicPrefix: prefix,
      handlers: [
        on(TOPIC, async (tx, message) => {
          if (message.data.wasConfirmed)
            throw new PermanentMessageError('this test treats wasConfirmed as poison');
          if (message.data.reason === 'user-cancelled')
            throw new TypeError('an unexpected error, as a bug throws');
          await tx.query('INSERT INTO applied (key) VALUES ($1)', [message.key]);
        }),
      ],
    });
    await consumer.start();
  });

  after(async () => {
    await consumer?.stop();
    await producer?.close();
    await viaGate?.end();
    await gate?.close();
    await direct?.end();
    await db?.drop();
    await deleteTopicsWithPrefix(brokers, prefix);
  });

  const publish = (key: string, value: string) =>
    producer.send({ messages: [{ topic: `${prefix}${TOPIC}`, key, value }] });

  it('rides out a database outage longer than any retry budget: the message is applied once it is back, not dead-lettered', async function () {
    this.timeout(60_000);
    const key = randomUUID();
    await gate.cut();
    await publish(key, JSON.stringify(cancellation(key)));
    // The outage: PostgreSQL unreachable for 4 s, longer than the old 5-attempt budget of about 1.5 s.
    await sleep(4000);
    assert.equal(await applied(key), undefined);
    await gate.restore();
    await waitFor(() => applied(key), {
      timeoutMs: 30_000,
      what: 'the message to be applied after the outage',
    });
    assert.equal(await outcomes('dead-lettered'), 0);
  });

  it('never moves past a message whose dead-letter publish fails: the next one on its partition waits for it', async function () {
    this.timeout(60_000);
    const key = randomUUID();
    // Not JSON, and too big for the dead-letter topic as it is configured now.
    const poison = `not json ${'x'.repeat(2000)}`;
    const next = cancellation(key);
    await publish(key, poison);
    await publish(key, JSON.stringify(next));
    // The broker refuses the dead letter for 3 s.
    await sleep(3000);
    const raisedAt = new Date();
    const admin = new Admin({ clientId: 'consumer-test', bootstrapBrokers: brokers });
    try {
      await admin.incrementalAlterConfigs({
        resources: [
          {
            resourceType: 2, // TOPIC
            resourceName: deadLetterTopic(`${prefix}${TOPIC}`),
            configs: [{ name: 'max.message.bytes', configOperation: 0, value: '1048588' }],
          },
        ],
      });
    } finally {
      await admin.close();
    }
    const appliedAt = await waitFor(() => applied(key), {
      timeoutMs: 30_000,
      what: 'the next message to be applied',
    });
    assert.ok(
      appliedAt >= raisedAt,
      'the next message on the partition went ahead of the unacknowledged one',
    );
    const letters = await readTopicToEnd(brokers, deadLetterTopic(`${prefix}${TOPIC}`));
    assert.ok(
      letters.some((l) => l.value === poison),
      'the message whose dead-letter publish failed was skipped instead of dead-lettered',
    );
  });

  // After the test above has raised the dead-letter topic's size limit.
  it('dead-letters a message that breaks a rule for good at once, without a retry budget', async function () {
    this.timeout(30_000);
    const before = await outcomes('dead-lettered');
    const key = randomUUID();
    await publish(key, JSON.stringify(cancellation(key, true)));
    await waitFor(async () => (await outcomes('dead-lettered')) > before, {
      timeoutMs: 20_000,
      what: 'the poison message to be dead-lettered',
    });
    assert.equal(await applied(key), undefined);
  });

  it('gives an unexpected error (a bug, most likely) 5 attempts with backoff, then dead-letters it', async function () {
    this.timeout(30_000);
    const key = randomUUID();
    const buggy = cancellation(key, false, 'user-cancelled');
    await publish(key, JSON.stringify(buggy));
    const letter = await waitFor(
      async () =>
        (await readTopicToEnd(brokers, deadLetterTopic(`${prefix}${TOPIC}`))).find(
          (l) => l.value === JSON.stringify(buggy),
        ),
      { timeoutMs: 20_000, what: 'the dead letter' },
    );
    assert.equal(letter.headers.get('dlt-attempts'), '5');
    assert.match(letter.headers.get('dlt-error') ?? '', /unexpected error/);
  });

  // After the dead-letter topic's size limit was raised: the poison below must reach it.
  it('applies a run of one partition’s messages in one transaction', async function () {
    this.timeout(30_000);
    const key = randomUUID();
    const run = Array.from({ length: 10 }, (_, i) => tagged(`${key}-${i}`));
    // One key, one partition; one send, one fetch.
    await producer.send({
      messages: run.map((m) => ({ topic: `${prefix}${TOPIC}`, key, value: JSON.stringify(m) })),
    });
    await waitFor(() => applied(`${key}-9`), { timeoutMs: 20_000, what: 'the run to be applied' });
    const { rows } = await direct.query(
      'SELECT count(*)::int AS n, count(DISTINCT applied_at)::int AS commits FROM applied WHERE key LIKE $1',
      [`${key}-%`],
    );
    assert.equal(rows[0].n, 10);
    // now() is the transaction's start: rows written in one transaction share it.
    assert.ok(rows[0].commits < 10, `${rows[0].commits} transactions for 10 messages`);
  });

  it('when a batch holds a poison message, applies the others one by one and dead-letters only the poison', async function () {
    this.timeout(30_000);
    const key = randomUUID();
    const [a, b, c] = [0, 1, 2].map((i) => tagged(`${key}-${i}`)) as [Msg, Msg, Msg];
    const poison = tagged(`${key}-poison`, true);
    const duplicatesBefore = await outcomes('duplicate');
    const lettersBefore = await outcomes('dead-lettered');
    await producer.send({
      messages: [a, b, poison, c, a].map((m) => ({
        topic: `${prefix}${TOPIC}`,
        key,
        value: JSON.stringify(m),
      })),
    });
    await waitFor(async () => (await outcomes('dead-lettered')) > lettersBefore, {
      timeoutMs: 20_000,
      what: 'the poison message to be dead-lettered',
    });
    await waitFor(() => applied(`${key}-2`), { timeoutMs: 20_000, what: 'the message after the poison' });
    for (const m of [a, b, c]) assert.ok(await applied(m.key), `${m.key} applied`);
    assert.equal(await applied(poison.key), undefined);
    // The second copy of a: dropped by id, whichever way it was handled.
    await waitFor(async () => (await outcomes('duplicate')) > duplicatesBefore, {
      timeoutMs: 20_000,
      what: 'the copy to be dropped',
    });
  });
});
