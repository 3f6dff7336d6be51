import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { newMessage, TOPICS } from '@reservex/contracts';
import {
  createLogger,
  createProducer,
  createServiceMetrics,
  deleteTopicsWithPrefix,
  enqueueMessage,
  ensureTopics,
  KIT_MIGRATIONS_DIR,
  OutboxRelay,
  readTopicToEnd,
  runMigrations,
} from '@reservex/kit';
import { createTestDatabase, type TestDatabase, testInfra, waitFor } from '@reservex/kit/testing';
import pg from 'pg';
import { BadInput, parseCommand } from './outbox.ts';

const SCRIPT = resolve(import.meta.dirname, 'outbox.ts');
const TOPIC = TOPICS.reservationCancelled;

describe('npm run outbox: the operator lists and replays outbox messages set aside', () => {
  const logger = createLogger('outbox-tool-test', 'silent');
  const brokers = testInfra().kafkaBrokers.split(',');
  const prefix = `obt${randomUUID().slice(0, 8)}.`;
  let db: TestDatabase;
  let pool: pg.Pool;

  before(async () => {
    db = await createTestDatabase('outbox_tool');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await runMigrations(pool, KIT_MIGRATIONS_DIR, logger, 'kit_schema_migrations');
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
    await deleteTopicsWithPrefix(brokers, prefix);
  });
  beforeEach(() => pool.query('DELETE FROM outbox'));

  /** Runs the tool as an operator would, against the test database standing in for ticket-service's. */
  function outbox(...args: string[]) {
    const run = spawnSync(process.execPath, [SCRIPT, ...args], {
      encoding: 'utf8',
      env: { ...process.env, TICKET_DATABASE_URL: db.url },
    });
    return { code: run.status, out: run.stdout, err: run.stderr };
  }

  /** An outbox row the relay set aside, as it leaves one. */
  async function setAside(key = randomUUID()) {
    const message = newMessage(TOPIC, key, {
      reservationId: key,
      eventId: randomUUID(),
      reason: 'user-cancelled',
      wasConfirmed: true,
    });
    await enqueueMessage(pool, message);
    const { rows } = await pool.query<{ id: number }>(
      `UPDATE outbox SET rejected_at = now(), last_error = 'MESSAGE_TOO_LARGE: Producing messages failed.'
       WHERE message_id = $1 RETURNING id`,
      [message.id],
    );
    return { ...message, row: rows[0]!.id };
  }

  const setAsideIds = async () =>
    (await pool.query('SELECT id FROM outbox WHERE rejected_at IS NOT NULL ORDER BY id')).rows.map(
      (r) => r.id,
    );

  it('--help explains both commands and exits 0', () => {
    const { code, out } = outbox('--help');
    assert.equal(code, 0);
    assert.match(out, /list/);
    assert.match(out, /replay/);
    assert.match(out, /--all/);
  });

  it('list shows each set-aside row: id, topic, key, message id, Kafka’s answer and when; a published row is not listed', async () => {
    const a = await setAside();
    const published = newMessage(TOPIC, a.key, { ...a.data, reason: 'expired' });
    await enqueueMessage(pool, published);
    await pool.query('UPDATE outbox SET published_at = now() WHERE message_id = $1', [published.id]);
    const { code, out } = outbox('list', 'ticket-service');
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`#${a.row}  ${TOPIC}  key ${a.key}  message ${a.id}  set aside \\d{4}-`));
    assert.match(out, /MESSAGE_TOO_LARGE/);
    assert.doesNotMatch(out, new RegExp(published.id));
    assert.match(out, /1 message\(s\) set aside in ticket-service's outbox/);
  });

  it('list --json gives the same rows to a program', async () => {
    const a = await setAside();
    const b = await setAside();
    const { code, out } = outbox('list', 'ticket-service', '--json');
    assert.equal(code, 0, out);
    const listed = JSON.parse(out) as Array<{
      id: number;
      messageId: string;
      topic: string;
      key: string;
      error: string;
      setAsideAt: string;
    }>;
    assert.deepEqual(
      listed.map((m) => [m.id, m.messageId, m.topic, m.key]),
      [
        [a.row, a.id, TOPIC, a.key],
        [b.row, b.id, TOPIC, b.key],
      ],
    );
    assert.ok(
      listed.every((m) => /MESSAGE_TOO_LARGE/.test(m.error) && !Number.isNaN(Date.parse(m.setAsideAt))),
    );
  });

  it('replay --id hands only that row back to the relay', async () => {
    const a = await setAside();
    const b = await setAside();
    const { code, out } = outbox('replay', 'ticket-service', '--id', String(b.row));
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`handed 1 message\\(s\\) back to ticket-service's relay: #${b.row}`));
    assert.deepEqual(await setAsideIds(), [a.row]);
  });

  it('replay --all hands every row back, and the relay publishes them again in row order', async function () {
    this.timeout(30_000);
    await ensureTopics(brokers, [TOPIC], 'outbox-tool-test', prefix);
    const key = randomUUID();
    const first = await setAside(key);
    const second = await setAside(key);
    const { code, out } = outbox('replay', 'ticket-service', '--all', '--json');
    assert.equal(code, 0, out);
    assert.deepEqual(JSON.parse(out), { replayed: [first.row, second.row] });
    assert.deepEqual(await setAsideIds(), []);
    const producer = createProducer(brokers, 'outbox-tool-test');
    try {
      const relay = new OutboxRelay({
        pool,
        producer,
        logger,
        metrics: createServiceMetrics('outbox-tool-test'),
        topicPrefix: prefix,
      });
      await waitFor(async () => (await relay.publishBatch()) > 0 || undefined, {
        what: 'the relay to publish',
      });
    } finally {
      await producer.close();
    }
    const onKafka = (await readTopicToEnd(brokers, `${prefix}${TOPIC}`)).filter((r) => r.key === key);
    assert.deepEqual(
      onKafka.map((r) => r.headers.get('message-id')),
      [first.id, second.id],
    );
  });

  it('refuses a malformed command with a readable error, the usage and exit code 2', () => {
    const { code, err, out } = outbox('list', 'account-service');
    assert.equal(code, 2, err);
    assert.match(err, /^outbox: unknown service 'account-service': ticket-service or payment-service/);
    assert.match(err, /usage: npm run outbox/);
    assert.doesNotMatch(err, /\n\s+at /, 'no stack trace');
    assert.equal(out, '');
  });

  it('replays nothing when one of the rows asked for is not set aside, and says which', async () => {
    const a = await setAside();
    const b = await setAside();
    const missing = b.row + 1000;
    const { code, err } = outbox('replay', 'ticket-service', '--id', String(a.row), '--id', String(missing));
    assert.equal(code, 2, err);
    assert.match(err, new RegExp(`not set aside: #${missing} .*nothing replayed`));
    assert.deepEqual(await setAsideIds(), [a.row, b.row]);
  });

  it('reads each malformed command as what is wrong with it', () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /say list or replay/],
      [['purge', 'ticket-service'], /unknown command 'purge'/],
      [['list'], /list which service\? ticket-service or payment-service/],
      [['list', 'account-service'], /unknown service 'account-service'/],
      [['list', 'ticket-service', 'extra'], /unexpected 'extra'/],
      [['list', 'ticket-service', '--all'], /list takes no --id or --all/],
      [['replay', 'ticket-service'], /replay which rows\? --id N .* or --all/],
      [
        ['replay', 'ticket-service', '--id', 'abc'],
        /--id takes an outbox row id \(a positive integer\), not 'abc'/,
      ],
      [['replay', 'ticket-service', '--id', '0'], /not '0'/],
      [['replay', 'ticket-service', '--id', '7', '--all'], /not both/],
      [['replay', 'ticket-service', '--ids', '3'], /Unknown option '--ids'/],
    ];
    for (const [args, message] of cases)
      assert.throws(
        () => parseCommand(args),
        (error) => error instanceof BadInput && message.test(error.message),
        args.join(' '),
      );
    assert.deepEqual(parseCommand(['replay', 'payment-service', '--id', '7', '--id', '9']), {
      action: 'replay',
      service: 'payment-service',
      ids: [7, 9],
      json: false,
    });
    assert.equal(parseCommand(['list', 'ticket-service', '-h']), 'help');
  });
});
