import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { newMessage, TOPICS } from '@reservex/contracts';
import pg from 'pg';
import {
  ConsumedThrough,
  ConsumerBacklog,
  createLogger,
  createProducer,
  createServiceMetrics,
  createTracing,
  deleteTopicsWithPrefix,
  ensureTopics,
  KIT_MIGRATIONS_DIR,
  MessageConsumer,
  on,
  runMigrations,
  type StringProducer,
  tracingConfigSchema,
} from '../src/index.ts';
import { createTestDatabase, type TestDatabase, testInfra, waitFor } from '../src/testing/index.ts';

const reading = (partition: string, end: number, committed: number) => ({
  partition,
  end: BigInt(end),
  committed: BigInt(committed),
});

describe('how far a consumer group has consumed, from readings of the log', () => {
  it('knows nothing before its first reading', () => {
    assert.equal(new ConsumedThrough().time(), undefined);
  });

  it('a group caught up at a reading has consumed everything appended before it', () => {
    const through = new ConsumedThrough();
    through.record(1000, [reading('a/0', 5, 5), reading('a/1', 0, 0)]);
    assert.equal(through.time(), 1000);
    through.record(1500, [reading('a/0', 7, 7), reading('a/1', 2, 2)]);
    assert.equal(through.time(), 1500);
  });

  it('a group that commits nothing stays at the last reading it had caught up with, however long it lasts', () => {
    const through = new ConsumedThrough();
    through.record(1000, [reading('a/0', 5, 5)]);
    for (let at = 1500; at <= 100_000; at += 500) through.record(at, [reading('a/0', 8, 5)]);
    assert.equal(through.time(), 1000);
    // It consumes the first of the three, then the rest: the time moves to the readings those ends were seen at.
    through.record(100_500, [reading('a/0', 9, 6)]);
    assert.equal(through.time(), 1000, 'offset 6 is below the end seen at 1500 (8): not through it yet');
    through.record(101_000, [reading('a/0', 9, 8)]);
    assert.equal(through.time(), 100_000, 'the end 8 was last seen at 100,000');
    through.record(101_500, [reading('a/0', 9, 9)]);
    assert.equal(through.time(), 101_500);
  });

  it('a group behind at its first reading is not known to be through anything until it catches up with one', () => {
    const through = new ConsumedThrough();
    through.record(1000, [reading('a/0', 10, 3)]);
    assert.equal(through.time(), undefined);
    through.record(1500, [reading('a/0', 10, 10)]);
    assert.equal(through.time(), 1500);
  });

  it('the partition furthest behind decides, and a partition not caught up with any reading makes it unknown', () => {
    const through = new ConsumedThrough();
    through.record(1000, [reading('a/0', 1, 1), reading('a/1', 1, 1)]);
    through.record(2000, [reading('a/0', 2, 2), reading('a/1', 3, 1)]);
    assert.equal(through.time(), 1000);
    through.record(3000, [reading('b/0', 4, 0)]);
    assert.equal(through.time(), undefined);
  });
});

describe('a consumer group’s backlog, read from real Kafka whatever its consumer is doing', () => {
  const brokers = testInfra().kafkaBrokers.split(',');
  const logger = createLogger('backlog-test', (process.env.TEST_LOG_LEVEL as 'silent') ?? 'silent');
  const TOPIC = TOPICS.paymentCompleted;
  let prefix: string;
  let db: TestDatabase;
  let pool: pg.Pool;
  let producer: StringProducer;
  let consumer: MessageConsumer;
  const backlogs: ConsumerBacklog[] = [];

  const newBacklog = () => {
    const backlog = new ConsumerBacklog({
      brokers,
      clientId: 'backlog-test',
      groupId: `${prefix}group`,
      topics: [`${prefix}${TOPIC}`],
      logger,
      intervalMs: 100,
    });
    backlogs.push(backlog);
    return backlog;
  };
  const publish = async (n: number) => {
    const messages = Array.from({ length: n }, () => {
      const reservationId = randomUUID();
      return newMessage(TOPIC, reservationId, {
        reservationId,
        paymentId: randomUUID(),
        amount: 1000,
        capturedAt: new Date().toISOString(),
      });
    });
    await producer.send({
      messages: messages.map((m) => ({ topic: `${prefix}${TOPIC}`, key: m.key, value: JSON.stringify(m) })),
    });
    return messages.map((m) => m.id);
  };
  const applied = async (ids: string[]) =>
    (await pool.query('SELECT count(*)::int AS n FROM processed_messages WHERE message_id = ANY($1)', [ids]))
      .rows[0].n === ids.length;

  before(async function () {
    this.timeout(60_000);
    prefix = `b${randomUUID().slice(0, 8)}.`;
    db = await createTestDatabase('kit_backlog');
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    await runMigrations(pool, KIT_MIGRATIONS_DIR, logger, 'kit_schema_migrations');
    await ensureTopics(brokers, [TOPIC], 'backlog-test', prefix);
    producer = createProducer(brokers, 'backlog-test');
    consumer = new MessageConsumer({
      groupId: `${prefix}group`,
      clientId: 'backlog-test',
      brokers,
      pool,
      producer,
      logger,
      metrics: createServiceMetrics('backlog-test'),
      tracer: createTracing('backlog-test', tracingConfigSchema.parse({})).tracer,
      topicPrefix: prefix,
      handlers: [on(TOPIC, async () => {})],
    });
    await consumer.start();
  });

  after(async () => {
    for (const b of backlogs) await b.stop();
    await consumer?.stop();
    await producer?.close();
    await pool?.end();
    await db?.drop();
    await deleteTopicsWithPrefix(brokers, prefix);
  });

  it('while the consumer keeps up, the group has consumed up to a moment ago', async function () {
    this.timeout(30_000);
    const backlog = newBacklog();
    backlog.start();
    const ids = await publish(20);
    await waitFor(() => applied(ids), { timeoutMs: 20_000, what: 'the messages to be applied' });
    const after = Date.now();
    await waitFor(async () => (backlog.consumedThrough() ?? 0) >= after, {
      timeoutMs: 10_000,
      what: 'the backlog to see the group caught up',
    });
  });

  it('a stalled consumer with messages queued holds the time before their append, for as long as it is stalled, and a fresh reader knows nothing until the group catches up', async function () {
    this.timeout(60_000);
    const backlog = newBacklog();
    backlog.start();
    await waitFor(async () => backlog.consumedThrough() !== undefined, {
      timeoutMs: 10_000,
      what: 'a first reading caught up',
    });
    await consumer.stop();
    const appendedAfter = Date.now();
    const ids = await publish(10);
    // Longer than any "busy window" a consumer's own view of itself would use: the log says it is behind.
    const stalledUntil = Date.now() + 6000;
    const fresh = newBacklog();
    await fresh.measure();
    assert.equal(
      fresh.consumedThrough(),
      undefined,
      'a reader started during the stall cannot say it is caught up',
    );
    await waitFor(async () => Date.now() >= stalledUntil, {
      timeoutMs: 10_000,
      what: 'six seconds of stall',
    });
    await backlog.measure();
    const during = backlog.consumedThrough();
    assert.ok(
      during !== undefined && during < appendedAfter + 50,
      `consumed through ${during}, messages appended at ${appendedAfter}`,
    );

    await consumer.start();
    await waitFor(() => applied(ids), { timeoutMs: 20_000, what: 'the queued messages to be applied' });
    const caughtUp = Date.now();
    await waitFor(async () => (backlog.consumedThrough() ?? 0) >= caughtUp, {
      timeoutMs: 15_000,
      what: 'the backlog to move past the stall',
    });
    await fresh.measure();
    await waitFor(
      async () => {
        await fresh.measure();
        return (fresh.consumedThrough() ?? 0) >= caughtUp;
      },
      { timeoutMs: 15_000, what: 'the fresh reader to see the group caught up' },
    );
  });

  it('a reading that fails records nothing: the time consumed through does not move', async function () {
    this.timeout(30_000);
    const backlog = newBacklog();
    await backlog.measure();
    const before = backlog.consumedThrough();
    assert.ok(before !== undefined);
    const unreachable = new ConsumerBacklog({
      brokers: ['127.0.0.1:1'],
      clientId: 'backlog-test',
      groupId: `${prefix}group`,
      topics: [`${prefix}${TOPIC}`],
      logger,
      intervalMs: 100,
    });
    backlogs.push(unreachable);
    await assert.rejects(unreachable.measure());
    assert.equal(unreachable.consumedThrough(), undefined);
  });
});
