import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer, type MessagesStream, stringDeserializers } from '@platformatic/kafka';
import {
  ContractViolation,
  deadLetterTopic,
  type Envelope,
  parseEvent,
  type Topic,
} from '@reservex/contracts';
import { Counter, Histogram } from 'prom-client';
import { type Pool, type PoolClient, withTransaction } from './db.ts';
import type { StringProducer } from './kafka.ts';
import type { Logger } from './logger.ts';
import { metricOnce, type ServiceMetrics } from './metrics.ts';
import { extractTraceContext, inSpan, markSpanFailed, SpanKind, type Tracer } from './tracing.ts';

export interface EventHandler<T extends Topic = Topic> {
  topic: T;
  /** Runs inside the transaction that also records the event id; throw to roll both back and retry. */
  handle: (tx: PoolClient, event: Envelope<T>) => Promise<void>;
}

export function on<T extends Topic>(topic: T, handle: (tx: PoolClient, event: Envelope<T>) => Promise<void>) {
  return { topic, handle } as EventHandler<Topic>;
}

export interface EventConsumerOptions {
  groupId: string;
  clientId: string;
  brokers: string[];
  pool: Pool;
  producer: StringProducer;
  logger: Logger;
  metrics: ServiceMetrics;
  tracer: Tracer;
  handlers: EventHandler[];
  topicPrefix?: string;
  /** Messages taken from the stream ahead of their handling, across all partitions. */
  maxInFlight?: number;
  maxAttempts?: number;
  backoffMs?: number;
  /** Called after the database commit and before the offset commit: the window the crash tests aim at. */
  afterDatabaseCommit?: (event: Envelope) => void;
  /** Called after a handler's effects commit, for services that want to wake their outbox relay. */
  onCommitted?: () => void;
}

type Outcome = 'applied' | 'duplicate' | 'dead-lettered';

/**
 * Applies an event at most once: its id goes into processed_events in the same transaction as the handler's
 * writes. Returns false, having changed nothing, when the event was applied before.
 */
export function applyOnce(pool: Pool, handler: EventHandler, event: Envelope): Promise<boolean> {
  return withTransaction(pool, async (tx) => {
    const recorded = await tx.query(
      'INSERT INTO processed_events (event_id, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [event.id, event.type],
    );
    if (recorded.rowCount === 0) return false;
    await handler.handle(tx, event);
    return true;
  });
}

/**
 * At-least-once delivery in, exactly-once effects out: the event id goes into processed_events in the same
 * transaction as the handler's writes, and the Kafka offset is committed only after that transaction.
 */
export class EventConsumer {
  readonly #o: Required<Omit<EventConsumerOptions, 'afterDatabaseCommit' | 'onCommitted'>> &
    Pick<EventConsumerOptions, 'afterDatabaseCommit' | 'onCommitted'>;
  readonly #consumer: Consumer<string, string, string, string>;
  readonly #byTopic: Map<string, EventHandler>;
  #stream: MessagesStream<string, string, string, string> | undefined;
  #loop: Promise<void> | undefined;
  readonly #outcomes: Counter<'topic' | 'outcome'>;
  readonly #lag: Histogram<'topic'>;
  readonly #handling: Histogram<'topic'>;

  constructor(options: EventConsumerOptions) {
    this.#o = { maxAttempts: 5, backoffMs: 100, topicPrefix: '', maxInFlight: 64, ...options };
    this.#byTopic = new Map(options.handlers.map((h) => [`${this.#o.topicPrefix}${h.topic}`, h]));
    this.#consumer = new Consumer({
      clientId: options.clientId,
      groupId: options.groupId,
      bootstrapBrokers: options.brokers,
      deserializers: stringDeserializers,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      maxWaitTime: 100,
    });
    const registry = options.metrics.registry;
    // Several consumers can share one registry (one per service process, more in tests): one series set.
    this.#outcomes = metricOnce(
      registry,
      'saga_events_consumed_total',
      () =>
        new Counter({
          name: 'saga_events_consumed_total',
          help: 'Events consumed, by outcome: applied, duplicate (dropped by id) or dead-lettered',
          labelNames: ['topic', 'outcome'] as const,
          registers: [registry],
        }),
    );
    const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    this.#lag = metricOnce(
      registry,
      'saga_event_lag_seconds',
      () =>
        new Histogram({
          name: 'saga_event_lag_seconds',
          help: 'From the moment an event was appended to Kafka to the moment its handling began',
          labelNames: ['topic'] as const,
          buckets,
          registers: [registry],
        }),
    );
    this.#handling = metricOnce(
      registry,
      'saga_event_handle_seconds',
      () =>
        new Histogram({
          name: 'saga_event_handle_seconds',
          help: 'Time to apply one event, transaction included',
          labelNames: ['topic'] as const,
          buckets,
          registers: [registry],
        }),
    );
  }

  async start(): Promise<void> {
    this.#stream = await this.#consumer.consume({
      topics: [...this.#byTopic.keys()],
      autocommit: false,
      mode: 'committed',
      fallbackMode: 'earliest',
    });
    this.#stream.on('error', (error) => this.#o.logger.error({ err: error }, 'consumer stream error'));
    this.#loop = this.#run(this.#stream);
  }

  async stop(): Promise<void> {
    await this.#stream?.close().catch(() => {});
    await this.#loop;
    await this.#consumer.close(true).catch(() => {});
  }

  /**
   * Partitions are handled side by side, each in order: one reservation's events share a partition (they are
   * keyed by reservation id), so their order holds, while a slow handler on one partition no longer delays the
   * others. At most `maxInFlight` messages are taken from the stream ahead of their handling.
   */
  async #run(stream: MessagesStream<string, string, string, string>): Promise<void> {
    const lanes = new Map<string, Promise<void>>();
    const inFlight = new Set<Promise<void>>();
    try {
      for await (const message of stream) {
        const lane = `${message.topic}/${message.partition}`;
        const work = (lanes.get(lane) ?? Promise.resolve()).then(() => this.#handle(message));
        const tracked = work.finally(() => {
          inFlight.delete(tracked);
          if (lanes.get(lane) === work) lanes.delete(lane);
        });
        lanes.set(lane, work);
        inFlight.add(tracked);
        if (inFlight.size >= this.#o.maxInFlight) await Promise.race(inFlight);
      }
    } catch (error) {
      if (!stream.closed) this.#o.logger.error({ err: error }, 'consumer loop stopped');
    }
    await Promise.allSettled(inFlight);
  }

  async #handle(message: {
    topic: string;
    partition: number;
    offset: bigint;
    key: string;
    value: string;
    timestamp: bigint;
    headers: Map<string, string>;
    commit(): void | Promise<void>;
  }): Promise<void> {
    const topic = message.topic.slice(this.#o.topicPrefix.length);
    this.#lag.observe({ topic }, Math.max(0, Date.now() - Number(message.timestamp)) / 1000);
    const endHandling = this.#handling.startTimer({ topic });
    try {
      // A child of the span that wrote the event (its traceparent travelled in the headers), so the handler's
      // own events, and its log lines, stay in the same trace.
      const outcome = await inSpan(
        this.#o.tracer,
        `${topic} process`,
        {
          kind: SpanKind.CONSUMER,
          parent: extractTraceContext(message.headers),
          attributes: {
            'messaging.system': 'kafka',
            'messaging.operation.type': 'process',
            'messaging.destination.name': message.topic,
            'messaging.destination.partition.id': String(message.partition),
            'messaging.kafka.offset': Number(message.offset),
            'messaging.kafka.message.key': message.key,
            'messaging.message.id': message.headers.get('event-id') ?? '',
            'messaging.consumer.group.name': this.#o.groupId,
          },
        },
        async (span) => {
          const result = await this.#process(message.topic, message.value, message);
          span.setAttribute('reservex.outcome', result);
          if (result === 'dead-lettered') markSpanFailed(span, 'dead-lettered');
          return result;
        },
      );
      endHandling();
      this.#outcomes.inc({ topic: message.topic, outcome });
      // Not awaited: waiting for the broker on every message cut throughput tenfold (7 ms → 0.7 ms each). The
      // client merges commits per partition and keeps them monotonic; a commit that is late or lost in a crash
      // only means the message is read again, and processed_events drops it.
      void (message.commit() as Promise<void>).catch((e: Error) =>
        this.#o.logger.warn({ err: e }, 'offset commit failed'),
      );
    } catch (error) {
      // Only a failed dead-letter publish lands here. The offset stays uncommitted, so the message comes back
      // after a restart; until then this partition's lane goes on with the next message.
      this.#o.logger.error(
        { err: error, topic: message.topic, offset: String(message.offset) },
        'message left unacknowledged',
      );
    }
  }

  async #process(
    topic: string,
    value: string,
    meta: { partition: number; offset: bigint; key: string; headers: Map<string, string> },
  ): Promise<Outcome> {
    const handler = this.#byTopic.get(topic);
    let event: Envelope;
    try {
      if (handler === undefined) throw new ContractViolation(`no handler for ${topic}`);
      event = parseEvent(handler.topic, value ?? '');
    } catch (error) {
      // A malformed message will never parse: straight to the dead-letter topic, so it cannot block its partition.
      await this.#deadLetter(topic, value, meta, error as Error, 0);
      return 'dead-lettered';
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const fresh = await applyOnce(this.#o.pool, handler!, event);
        if (fresh) this.#o.onCommitted?.();
        this.#o.afterDatabaseCommit?.(event);
        return fresh ? 'applied' : 'duplicate';
      } catch (error) {
        if (attempt >= this.#o.maxAttempts) {
          await this.#deadLetter(topic, value, meta, error as Error, attempt);
          return 'dead-lettered';
        }
        this.#o.logger.warn(
          { err: error, topic, eventId: event.id, attempt },
          'event handler failed; retrying',
        );
        await sleep(this.#o.backoffMs * 2 ** (attempt - 1));
      }
    }
  }

  async #deadLetter(
    topic: string,
    value: string,
    meta: { partition: number; offset: bigint; key: string; headers: Map<string, string> },
    error: Error,
    attempts: number,
  ): Promise<void> {
    this.#o.logger.error(
      { err: error, topic, partition: meta.partition, offset: String(meta.offset) },
      'dead-lettering',
    );
    await this.#o.producer.send({
      messages: [
        {
          topic: deadLetterTopic(topic),
          key: meta.key ?? '',
          value: value ?? '',
          headers: {
            ...Object.fromEntries(meta.headers ?? []),
            'dlt-original-topic': topic,
            'dlt-original-partition': String(meta.partition),
            'dlt-original-offset': String(meta.offset),
            'dlt-error': error.message.slice(0, 1000),
            'dlt-attempts': String(attempts),
            'dlt-failed-at': new Date().toISOString(),
            'dlt-group': this.#o.groupId,
          },
        },
      ],
    });
  }
}
