import { type Envelope, type MessageData, newMessage, type Topic } from '@reservex/contracts';
import { Counter, Gauge } from 'prom-client';
import type { PassResult } from './background-loop.ts';
import { BackgroundWorker } from './background-worker.ts';
import type { Pool, PoolClient, Queryable } from './db.ts';
import { kafkaErrorIds, publishFailure, type StringProducer } from './kafka.ts';
import type { Logger } from './logger.ts';
import type { ServiceMetrics } from './metrics.ts';
import { injectTraceContext } from './tracing.ts';

/**
 * Records a message in the same transaction as the state change that caused it. The active trace context goes
 * with it into the Kafka headers, so the consumer's work joins the trace of whatever caused the message.
 */
export async function enqueueMessage(
  tx: Queryable,
  message: Envelope,
  headers: Record<string, string> = injectTraceContext(),
): Promise<void> {
  await tx.query(
    'INSERT INTO outbox (message_id, topic, key, payload, headers) VALUES ($1, $2, $3, $4, $5)',
    [message.id, message.type, message.key, JSON.stringify(message), JSON.stringify(headers)],
  );
}

/** Builds a message of `topic` under `key` and records it, as enqueueMessage does. */
export function enqueueNewMessage<T extends Topic>(
  tx: Queryable,
  topic: T,
  key: string,
  data: MessageData<T>,
): Promise<void> {
  return enqueueMessage(tx, newMessage(topic, key, data));
}

export interface OutboxRelayOptions {
  pool: Pool;
  producer: StringProducer;
  logger: Logger;
  metrics: ServiceMetrics;
  batchSize?: number;
  /** How long an idle relay sleeps before looking again, unless woken. */
  idleMs?: number;
  topicPrefix?: string;
}

interface OutboxRow {
  id: string;
  message_id: string;
  topic: string;
  key: string;
  /** The message as JSON text, handed to Kafka as it is: parsed and written again, it would cost twice for nothing. */
  payload: string;
  headers: Record<string, string>;
}

// One relay publishes at a time per database. The others wait their turn, which keeps each key's messages in
// commit order on Kafka: two relays publishing side by side could swap them.
const RELAY_LOCK = 72_410_100;

/**
 * Publishes outbox rows in id order, then marks them published. A crash between the two publishes them again on
 * restart; consumers drop the duplicate by message id. Nothing is lost and nothing is applied twice. A row Kafka
 * does not take is waited on, with backoff, however long the cause lasts; only one Kafka can never accept (too
 * large, malformed) is set aside, for an operator to list and replay (`setAsideMessages`, `replaySetAside`).
 */
export class OutboxRelay extends BackgroundWorker {
  readonly #options: Required<OutboxRelayOptions>;
  readonly #published: Counter<'topic'>;
  readonly #rejected: Counter<'topic'>;

  constructor(options: OutboxRelayOptions) {
    const withDefaults = { batchSize: 500, idleMs: 200, topicPrefix: '', ...options };
    super({
      name: 'outbox relay',
      logger: options.logger,
      idleMs: withDefaults.idleMs,
      backoff: { initialMs: 100, maxMs: 5000 },
    });
    this.#options = withDefaults;
    const { registry } = options.metrics;
    this.#published = new Counter({
      name: 'outbox_published_total',
      help: 'Messages published from the outbox',
      labelNames: ['topic'] as const,
      registers: [registry],
    });
    this.#rejected = new Counter({
      name: 'outbox_rejected_total',
      help: 'Outbox messages Kafka can never accept (too large, malformed), set aside so the rest can go out',
      labelNames: ['topic'] as const,
      registers: [registry],
    });
    // Read from the table at each scrape: right from start-up (rows set aside before this process began count), and
    // the same whichever instance is scraped.
    const fromTable = (name: string, help: string, sql: string) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          const { rows } = await options.pool.query<{ value: string | number | null }>(sql);
          this.set(Number(rows[0]?.value ?? 0));
        },
      });
    fromTable(
      'outbox_set_aside',
      'Outbox messages set aside now, waiting for an operator (npm run outbox -- list <service>)',
      'SELECT count(*) AS value FROM outbox WHERE published_at IS NULL AND rejected_at IS NOT NULL',
    );
    fromTable(
      'outbox_backlog',
      'Outbox messages not yet published',
      'SELECT count(*) AS value FROM outbox WHERE published_at IS NULL AND rejected_at IS NULL',
    );
    fromTable(
      'outbox_oldest_age_seconds',
      'Age of the oldest unpublished outbox message',
      'SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0) AS value FROM outbox WHERE published_at IS NULL AND rejected_at IS NULL',
    );
  }

  protected override async pass(): Promise<PassResult> {
    return (await this.publishBatch()) > 0 ? 'busy' : 'idle';
  }

  /** One pass: returns how many messages it published or set aside (0 when another relay holds the turn). */
  async publishBatch(): Promise<number> {
    const { pool, batchSize } = this.#options;
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const turn = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
        RELAY_LOCK,
      ]);
      if (turn.rows[0]?.ok !== true) {
        await client.query('COMMIT');
        return 0;
      }
      const { rows } = await client.query<OutboxRow>(
        `SELECT id, message_id, topic, key, payload::text AS payload, headers FROM outbox
         WHERE published_at IS NULL AND rejected_at IS NULL ORDER BY id LIMIT $1`,
        [batchSize],
      );
      let done = 0;
      if (rows.length > 0) {
        try {
          await this.#send(rows);
          await this.#markPublished(client, rows);
          done = rows.length;
        } catch (error) {
          // Anything but a record Kafka can never accept: the loop backs off and the whole batch waits for it.
          if (publishFailure(error) === 'retry') throw error;
          // Something in the batch can never be accepted. One by one, in order, to find it and let the others through.
          done = await this.#sendOneByOne(client, rows);
        }
      }
      await client.query('COMMIT');
      return done;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  #send(rows: OutboxRow[]) {
    const { producer, topicPrefix } = this.#options;
    return producer.send({
      messages: rows.map((r) => ({
        topic: `${topicPrefix}${r.topic}`,
        key: r.key,
        value: r.payload,
        headers: { ...r.headers, 'message-id': r.message_id },
      })),
    });
  }

  async #markPublished(client: PoolClient, rows: OutboxRow[]) {
    await client.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])', [
      rows.map((r) => r.id),
    ]);
    for (const r of rows) this.#published.inc({ topic: r.topic });
  }

  async #sendOneByOne(client: PoolClient, rows: OutboxRow[]): Promise<number> {
    let done = 0;
    for (const row of rows) {
      try {
        await this.#send([row]);
        await this.#markPublished(client, [row]);
      } catch (error) {
        // Everything Kafka might take later (a broker away, an authorisation, a topic, a leader) is waited for:
        // the pass ends here, the loop backs off, and no later row overtakes this one, so each key keeps its order.
        if (publishFailure(error) === 'retry') {
          if (done > 0) return done;
          throw error;
        }
        this.#options.logger.error(
          { err: error, topic: row.topic, messageId: row.message_id },
          'Kafka can never accept this outbox message; set aside for an operator (npm run outbox -- list)',
        );
        // Kafka's own words first (MESSAGE_TOO_LARGE): the client's message alone says only that producing failed.
        await client.query('UPDATE outbox SET rejected_at = now(), last_error = $2 WHERE id = $1', [
          row.id,
          `${[...new Set(kafkaErrorIds(error))].join(', ')}: ${(error as Error).message}`.slice(0, 1000),
        ]);
        this.#rejected.inc({ topic: row.topic });
      }
      done++;
    }
    return done;
  }
}

/** An outbox row the relay set aside because Kafka can never accept it as it is. */
export interface SetAsideMessage {
  /** The row's id: its place in the relay's order. */
  id: number;
  messageId: string;
  topic: string;
  key: string;
  /** Kafka's answer. */
  error: string;
  setAsideAt: Date;
  createdAt: Date;
}

/** The rows set aside now, in id order (npm run outbox -- list). */
export async function setAsideMessages(db: Queryable): Promise<SetAsideMessage[]> {
  const { rows } = await db.query<{
    id: number;
    message_id: string;
    topic: string;
    key: string;
    last_error: string | null;
    rejected_at: Date;
    created_at: Date;
  }>(
    `SELECT id, message_id::text, topic, key, last_error, rejected_at, created_at FROM outbox
     WHERE published_at IS NULL AND rejected_at IS NOT NULL ORDER BY id`,
  );
  return rows.map((r) => ({
    id: r.id,
    messageId: r.message_id,
    topic: r.topic,
    key: r.key,
    error: r.last_error ?? '',
    setAsideAt: r.rejected_at,
    createdAt: r.created_at,
  }));
}

/**
 * Hands set-aside rows back to the relay (npm run outbox -- replay), which publishes them at its next pass, in id
 * order and so ahead of any row written after them that still waits; one Kafka still cannot accept is set aside
 * again. Returns the ids handed back: an id that is not set aside now is left alone.
 */
export async function replaySetAside(
  db: Queryable,
  which: { ids: readonly number[] } | 'all',
): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `UPDATE outbox SET rejected_at = NULL
     WHERE published_at IS NULL AND rejected_at IS NOT NULL AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))
     RETURNING id`,
    [which === 'all' ? null : which.ids],
  );
  return rows.map((r) => r.id).sort((a, b) => a - b);
}

/**
 * Deletes what no one needs any more: published outbox rows and processed message ids older than the retention
 * window. The window is longer than any run and its check, so the evidence the checker reads is kept. Rows never
 * published (or set aside) are kept whatever their age.
 */
export async function pruneMessaging(
  pool: Pool,
  options: { retentionSeconds: number; batch?: number },
): Promise<{ outbox: number; processed: number }> {
  const batch = options.batch ?? 10_000;
  const params: [number, number] = [options.retentionSeconds, batch];
  return {
    outbox: await deleteInBatches(
      pool,
      `DELETE FROM outbox WHERE id IN (
         SELECT id FROM outbox WHERE published_at < now() - make_interval(secs => $1) LIMIT $2)`,
      params,
    ),
    processed: await deleteInBatches(
      pool,
      `DELETE FROM processed_messages WHERE message_id IN (
         SELECT message_id FROM processed_messages WHERE processed_at < now() - make_interval(secs => $1) LIMIT $2)`,
      params,
    ),
  };
}

/** Repeats a bounded DELETE until it takes fewer rows than its limit ($2), so no statement holds locks for long. */
async function deleteInBatches(pool: Pool, sql: string, params: [number, number]): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await pool.query(sql, params);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < params[1]) return total;
  }
}
