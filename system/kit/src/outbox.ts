import type { Envelope } from '@reservex/contracts';
import { Counter, Gauge } from 'prom-client';
import type { Pool, Queryable } from './db.ts';
import type { StringProducer } from './kafka.ts';
import type { Logger } from './logger.ts';
import type { ServiceMetrics } from './metrics.ts';
import { injectTraceContext } from './tracing.ts';

/**
 * Records an event in the same transaction as the state change that caused it. The active trace context goes
 * with it into the Kafka headers, so the consumer's work joins the trace of whatever caused the event.
 */
export async function enqueueEvent(
  tx: Queryable,
  event: Envelope,
  headers: Record<string, string> = injectTraceContext(),
): Promise<void> {
  await tx.query('INSERT INTO outbox (event_id, topic, key, payload, headers) VALUES ($1, $2, $3, $4, $5)', [
    event.id,
    event.type,
    event.key,
    JSON.stringify(event),
    JSON.stringify(headers),
  ]);
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

// One relay publishes at a time per database. The others wait their turn, which keeps each key's events in
// commit order on Kafka: two relays publishing side by side could swap them.
const RELAY_LOCK = 72_410_100;

/**
 * Publishes outbox rows in id order, then marks them published. A crash between the two publishes them again on
 * restart; consumers drop the duplicate by event id. Nothing is lost and nothing is applied twice.
 */
export class OutboxRelay {
  readonly #options: Required<OutboxRelayOptions>;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  readonly #published: Counter<'topic'>;

  constructor(options: OutboxRelayOptions) {
    this.#options = { batchSize: 500, idleMs: 200, topicPrefix: '', ...options };
    const { registry } = options.metrics;
    this.#published = new Counter({
      name: 'outbox_published_total',
      help: 'Events published from the outbox',
      labelNames: ['topic'] as const,
      registers: [registry],
    });
    const pool = options.pool;
    new Gauge({
      name: 'outbox_backlog',
      help: 'Outbox events not yet published',
      registers: [registry],
      async collect() {
        const { rows } = await pool.query('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL');
        this.set(Number(rows[0]?.n ?? 0));
      },
    });
    new Gauge({
      name: 'outbox_oldest_age_seconds',
      help: 'Age of the oldest unpublished outbox event',
      registers: [registry],
      async collect() {
        const { rows } = await pool.query(
          'SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0) AS age FROM outbox WHERE published_at IS NULL',
        );
        this.set(Number(rows[0]?.age ?? 0));
      },
    });
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Called after a commit that enqueued events, so they go out now rather than at the next poll. */
  wake(): void {
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.wake();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { logger, idleMs } = this.#options;
    let failures = 0;
    while (this.#running) {
      let published = 0;
      try {
        published = await this.publishBatch();
        failures = 0;
      } catch (error) {
        failures++;
        logger.error({ err: error, failures }, 'outbox relay could not publish; will retry');
      }
      if (published === 0 && this.#running) {
        const pause = failures === 0 ? idleMs : Math.min(5000, 100 * 2 ** failures);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pause);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = undefined;
      }
    }
  }

  /** One pass: returns how many events it published (0 when another relay holds the turn). */
  async publishBatch(): Promise<number> {
    const { pool, producer, batchSize, topicPrefix } = this.#options;
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
      const { rows } = await client.query<{
        id: string;
        topic: string;
        key: string;
        payload: unknown;
        headers: Record<string, string>;
        event_id: string;
      }>(
        'SELECT id, event_id, topic, key, payload, headers FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1',
        [batchSize],
      );
      if (rows.length > 0) {
        await producer.send({
          messages: rows.map((r) => ({
            topic: `${topicPrefix}${r.topic}`,
            key: r.key,
            value: JSON.stringify(r.payload),
            headers: { ...r.headers, 'event-id': r.event_id },
          })),
        });
        await client.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])', [
          rows.map((r) => r.id),
        ]);
        for (const r of rows) this.#published.inc({ topic: r.topic });
      }
      await client.query('COMMIT');
      return rows.length;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }
}
