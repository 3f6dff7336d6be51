import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { newMessage, TOPICS } from '@reservex/contracts';
import pg from 'pg';
import {
  createLogger,
  createProducer,
  createServiceMetrics,
  deleteTopicsWithPrefix,
  enqueueMessage,
  KIT_MIGRATIONS_DIR,
  OutboxRelay,
  pruneMessaging,
  runMigrations,
  type StringProducer,
} from '../src/index.ts';
import { createTestDatabase, type TestDatabase, testInfra } from '../src/testing/index.ts';

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

  it('a message Kafka rejects for good does not block the relay: the others go out, it is set aside and counted', async function () {
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
