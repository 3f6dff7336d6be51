import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Admin, ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from '@platformatic/kafka';
import { newMessage, TOPICS } from '@reservex/contracts';
import pg from 'pg';
import {
  createLogger,
  createProducer,
  createServiceMetrics,
  deleteTopicsWithPrefix,
  enqueueMessage,
  KIT_MIGRATIONS_DIR,
  kafkaErrorIds,
  OutboxRelay,
  pruneMessaging,
  readTopicToEnd,
  replaySetAside,
  runMigrations,
  type StringProducer,
  setAsideMessages,
} from '../src/index.ts';
import { createTestDatabase, type TestDatabase, testInfra, waitFor } from '../src/testing/index.ts';

const TOPIC = TOPICS.reservationCancelled;
const cancellation = (reason: 'expired' | 'user-cancelled' = 'expired') => {
  const id = randomUUID();
  return newMessage(TOPIC, id, { reservationId: id, eventId: randomUUID(), reason, wasConfirmed: false });
};

describe('the outbox', () => {
  const brokers = testInfra().kafkaBrokers.split(',');
  const logger = createLogger('outbox-test', 'silent');
  let db: TestDatabase;
  let pool: pg.Pool;
  let producer: StringProducer;
  let prefix: string;

  before(async function () {
    this.timeout(30_000);
    prefix = `o${randomUUID().slice(0, 8)}.`;
    db = await createTestDatabase('kit_outbox');
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    await runMigrations(pool, KIT_MIGRATIONS_DIR, logger, 'kit_schema_migrations');
    // A topic that takes only small messages, so one outbox row can be one that Kafka rejects for good.
    const admin = new Admin({ clientId: 'outbox-test', bootstrapBrokers: brokers });
    try {
      await admin.createTopics({
        topics: [`${prefix}${TOPIC}`],
        partitions: 6,
        replicas: 1,
        configs: [{ name: 'max.message.bytes', value: '2000' }],
      });
    } finally {
      await admin.close();
    }
    producer = createProducer(brokers, 'outbox-test');
  });
  after(async () => {
    await producer?.close();
    await pool?.end();
    await db?.drop();
    await deleteTopicsWithPrefix(brokers, prefix);
  });

  /** Sets (or, with `undefined`, removes) one config of one of this test's topics, as an operator would. */
  async function setTopicConfig(topic: string, name: string, value: string | undefined) {
    const admin = new Admin({ clientId: 'outbox-test', bootstrapBrokers: brokers });
    try {
      await admin.incrementalAlterConfigs({
        resources: [
          {
            resourceType: ConfigResourceTypes.TOPIC,
            resourceName: `${prefix}${topic}`,
            configs: [
              value === undefined
                ? { name, configOperation: IncrementalAlterConfigOperationTypes.DELETE }
                : { name, value, configOperation: IncrementalAlterConfigOperationTypes.SET },
            ],
          },
        ],
      });
    } finally {
      await admin.close();
    }
  }

  const state = async (messageId: string) =>
    (
      await pool.query<{ published: boolean; set_aside: boolean }>(
        'SELECT published_at IS NOT NULL AS published, rejected_at IS NOT NULL AS set_aside FROM outbox WHERE message_id = $1',
        [messageId],
      )
    ).rows[0];

  /** A relay of its own (own metrics) publishing under `topicPrefix`, as a service configured so would. */
  const relayWithPrefix = (topicPrefix: string) => {
    const metrics = createServiceMetrics('outbox-test');
    return Object.assign(new OutboxRelay({ pool, producer, logger, metrics, topicPrefix }), { metrics });
  };

  /** Runs relay passes until the message is published or set aside; a pass may fail while Kafka catches up. */
  const passUntil = (relay: OutboxRelay, messageId: string, wanted: 'published' | 'set_aside') =>
    waitFor(
      async () => {
        await relay.publishBatch().catch(() => 0);
        return (await state(messageId))?.[wanted];
      },
      { what: `${messageId} ${wanted}` },
    );

  const setAsideGauge = async (metrics: ReturnType<typeof createServiceMetrics>) =>
    (await metrics.registry.getSingleMetric('outbox_set_aside')?.get())?.values[0]?.value;

  it('a message Kafka can never accept (too large) does not block the relay: the others go out, it is set aside, counted and listed', async function () {
    this.timeout(30_000);
    const metrics = createServiceMetrics('outbox-test');
    const relay = new OutboxRelay({ pool, producer, logger, metrics, topicPrefix: prefix });
    const first = cancellation();
    const huge = { ...cancellation(), padding: 'x'.repeat(5000) };
    const last = cancellation();
    for (const message of [first, huge, last]) await enqueueMessage(pool, message as never);
    let published = 0;
    for (let pass = 0; pass < 5 && published < 2; pass++)
      published += await relay.publishBatch().catch(() => 0);
    const { rows } = await pool.query(
      'SELECT message_id, published_at IS NOT NULL AS published, rejected_at IS NOT NULL AS rejected, last_error FROM outbox',
    );
    const byId = new Map(rows.map((r) => [r.message_id, r]));
    assert.equal(byId.get(first.id)?.published, true);
    assert.equal(byId.get(last.id)?.published, true);
    assert.equal(byId.get(huge.id)?.published, false);
    assert.equal(byId.get(huge.id)?.rejected, true);
    assert.match(String(byId.get(huge.id)?.last_error), /.+/);
    const rejected = await metrics.registry.getSingleMetric('outbox_rejected_total')?.get();
    assert.equal(
      rejected?.values.reduce((n, v) => n + v.value, 0),
      1,
    );
    const listed = (await setAsideMessages(pool)).find((m) => m.messageId === huge.id);
    assert.ok(listed, 'the set-aside row is listed');
    assert.equal(listed.topic, TOPIC);
    assert.equal(listed.key, huge.key);
    assert.match(listed.error, /^(MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE): /);
    assert.ok(listed.setAsideAt instanceof Date);
    // A gauge read from the table: a fresh process (new metrics, new relay) sees the row set aside before it began.
    const afterRestart = createServiceMetrics('outbox-test');
    new OutboxRelay({ pool, producer, logger, metrics: afterRestart, topicPrefix: prefix });
    assert.equal(await setAsideGauge(afterRestart), (await setAsideMessages(pool)).length);
    assert.ok(((await setAsideGauge(afterRestart)) ?? 0) >= 1);
  });

  it('a set-aside message replayed after the topic takes it is published, and leaves the set-aside count', async function () {
    this.timeout(30_000);
    const metrics = createServiceMetrics('outbox-test');
    const relay = new OutboxRelay({ pool, producer, logger, metrics, topicPrefix: prefix });
    const huge = { ...cancellation(), padding: 'y'.repeat(5000) };
    await enqueueMessage(pool, huge as never);
    await passUntil(relay, huge.id, 'set_aside');
    const before = (await setAsideGauge(metrics)) ?? 0;
    await setTopicConfig(TOPIC, 'max.message.bytes', '20000');
    try {
      const row = (await setAsideMessages(pool)).find((m) => m.messageId === huge.id)!;
      assert.deepEqual(await replaySetAside(pool, { ids: [row.id] }), [row.id]);
      assert.equal(await setAsideGauge(metrics), before - 1);
      // The broker applies a topic's new config within moments; the relay keeps trying meanwhile.
      await passUntil(relay, huge.id, 'published');
      const onKafka = await readTopicToEnd(brokers, `${prefix}${TOPIC}`);
      assert.ok(onKafka.some((r) => r.headers.get('message-id') === huge.id));
      assert.deepEqual(await replaySetAside(pool, { ids: [row.id] }), [], 'a published row is not replayed');
    } finally {
      await setTopicConfig(TOPIC, 'max.message.bytes', '2000');
    }
  });

  it('a topic Kafka refuses (an invalid name, from a wrong prefix) sets nothing aside: the message waits and is published once the topic is right', async function () {
    this.timeout(30_000);
    const misconfigured = relayWithPrefix('no spaces!');
    const first = cancellation();
    const second = newMessage(TOPIC, first.key, { ...first.data, reason: 'user-cancelled' });
    for (const message of [first, second]) await enqueueMessage(pool, message);
    for (let pass = 0; pass < 3; pass++)
      await assert.rejects(misconfigured.publishBatch(), (error) =>
        kafkaErrorIds(error).includes('INVALID_TOPIC_EXCEPTION'),
      );
    for (const message of [first, second])
      assert.deepEqual(await state(message.id), { published: false, set_aside: false });
    const rejected = await misconfigured.metrics.registry.getSingleMetric('outbox_rejected_total')?.get();
    assert.equal(rejected?.values.reduce((n, v) => n + v.value, 0) ?? 0, 0);
    // The prefix is mended (a redeploy): the same rows go out, in order.
    const mended = relayWithPrefix(prefix);
    await passUntil(mended, second.id, 'published');
    const onKafka = (await readTopicToEnd(brokers, `${prefix}${TOPIC}`))
      .filter((r) => r.key === first.key)
      .map((r) => r.headers.get('message-id'));
    assert.deepEqual(onKafka, [first.id, second.id]);
  });

  it('a message Kafka refuses holds back the later messages of its key, on every topic: none overtakes it, and all go out once the cause is gone', async function () {
    this.timeout(30_000);
    // Kafka takes topic names up to 249 characters: with this prefix saga.payment.refunded (21) fits and
    // saga.reservation.cancelled (26) does not, so only the cancellation is refused (INVALID_TOPIC_EXCEPTION).
    const tooLong = `${prefix}${'x'.repeat(249 - TOPICS.paymentRefunded.length - prefix.length)}`;
    const admin = new Admin({ clientId: 'outbox-test', bootstrapBrokers: brokers });
    try {
      await admin.createTopics({
        topics: [`${tooLong}${TOPICS.paymentRefunded}`, `${prefix}${TOPICS.paymentRefunded}`],
        partitions: 6,
        replicas: 1,
      });
    } finally {
      await admin.close();
    }
    const misconfigured = relayWithPrefix(tooLong);
    const refusedAsInvalidTopic = (error: unknown) =>
      kafkaErrorIds(error).includes('INVALID_TOPIC_EXCEPTION');
    const reservationId = randomUUID();
    const cancelled = newMessage(TOPIC, reservationId, {
      reservationId,
      eventId: randomUUID(),
      reason: 'user-cancelled',
      wasConfirmed: true,
    });
    await enqueueMessage(pool, cancelled);
    await assert.rejects(misconfigured.publishBatch(), refusedAsInvalidTopic);
    // The refund comes after, on a topic Kafka takes.
    const refunded = newMessage(TOPICS.paymentRefunded, reservationId, {
      reservationId,
      paymentId: randomUUID(),
      amount: 100,
      refundedAt: new Date().toISOString(),
    });
    await enqueueMessage(pool, refunded);
    for (let pass = 0; pass < 3; pass++) await assert.rejects(misconfigured.publishBatch());
    assert.deepEqual(await state(cancelled.id), { published: false, set_aside: false });
    assert.deepEqual(
      await state(refunded.id),
      { published: false, set_aside: false },
      'the refund waits behind the cancellation of the same reservation',
    );
    const mended = relayWithPrefix(prefix);
    await passUntil(mended, refunded.id, 'published');
    assert.deepEqual(await state(cancelled.id), { published: true, set_aside: false });
  });

  it('pruning removes only what is published, or processed, and older than the retention window', async () => {
    const old = cancellation();
    const recent = cancellation();
    const unpublished = cancellation();
    for (const m of [old, recent, unpublished]) await enqueueMessage(pool, m);
    await pool.query(
      `UPDATE outbox SET published_at = now() - interval '8 days', created_at = now() - interval '8 days' WHERE message_id = $1`,
      [old.id],
    );
    await pool.query(`UPDATE outbox SET published_at = now() WHERE message_id = $1`, [recent.id]);
    await pool.query(`UPDATE outbox SET created_at = now() - interval '30 days' WHERE message_id = $1`, [
      unpublished.id,
    ]);
    const processedOld = randomUUID();
    const processedRecent = randomUUID();
    await pool.query(
      `INSERT INTO processed_messages (message_id, topic, processed_at) VALUES ($1, 't', now() - interval '8 days'), ($2, 't', now())`,
      [processedOld, processedRecent],
    );
    const pruned = await pruneMessaging(pool, { retentionSeconds: 7 * 86_400 });
    assert.deepEqual(pruned, { outbox: 1, processed: 1 });
    const left = new Set((await pool.query('SELECT message_id FROM outbox')).rows.map((r) => r.message_id));
    assert.ok(!left.has(old.id));
    assert.ok(left.has(recent.id));
    assert.ok(left.has(unpublished.id), 'an unpublished row is never pruned, however old');
    const processed = new Set(
      (await pool.query('SELECT message_id FROM processed_messages')).rows.map((r) => r.message_id),
    );
    assert.ok(!processed.has(processedOld));
    assert.ok(processed.has(processedRecent));
  });
});
