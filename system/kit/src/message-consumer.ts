import { Consumer, type MessagesStream, stringDeserializers } from '@platformatic/kafka';
import {
  ContractViolation,
  deadLetterTopic,
  type Envelope,
  parseMessage,
  type Topic,
} from '@reservex/contracts';
import { Counter, Gauge, Histogram } from 'prom-client';
import { type BackoffPolicy, backoffDelay, pause } from './backoff.ts';
import { type Pool, type PoolClient, withTransaction } from './db.ts';
import type { StringProducer } from './kafka.ts';
import type { Logger } from './logger.ts';
import { metricOnce, type ServiceMetrics } from './metrics.ts';
import { extractTraceContext, inSpan, markSpanFailed, type Span, SpanKind, type Tracer } from './tracing.ts';
import { isTransientError } from './transient-errors.ts';

export interface MessageHandler<T extends Topic = Topic> {
  topic: T;
  /** Runs inside the transaction that also records the message id; throw to roll both back and retry. */
  handle: (tx: PoolClient, message: Envelope<T>) => Promise<void>;
}

export function on<T extends Topic>(
  topic: T,
  handle: (tx: PoolClient, message: Envelope<T>) => Promise<void>,
) {
  return { topic, handle } as MessageHandler<Topic>;
}

/**
 * A message that breaks a rule and will break it however often it is retried (an amount that does not match,
 * a state that cannot be reached): it goes to the dead-letter topic at once instead of blocking its partition.
 */
export class PermanentMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentMessageError';
  }
}

export interface MessageConsumerOptions {
  groupId: string;
  clientId: string;
  brokers: string[];
  pool: Pool;
  producer: StringProducer;
  logger: Logger;
  metrics: ServiceMetrics;
  tracer: Tracer;
  handlers: MessageHandler[];
  topicPrefix?: string;
  /** Messages taken from the stream ahead of their handling, across all partitions. */
  maxInFlight?: number;
  /** At most this many messages of one partition are applied in one transaction. */
  maxBatch?: number;
  /** Attempts for an error that is neither transient nor known to be permanent (a bug, most likely). */
  maxAttempts?: number;
  /** Retries of transient failures, dead-letter publishes and reconnects. */
  backoff?: BackoffPolicy;
  /** Woken after a handler's effects commit, so the messages they enqueued go out now rather than at its next poll. */
  relay?: { wake(): void };
  /**
   * Test-only fault: exit the process between the database commit and the offset commit, the window in which a
   * crash must not apply a message twice. Never set outside crash tests.
   */
  exitAfterDatabaseCommit?: boolean;
}

type Outcome = 'applied' | 'duplicate' | 'dead-lettered';

interface KafkaMessage {
  topic: string;
  partition: number;
  offset: bigint;
  key: string;
  value: string;
  timestamp: bigint;
  headers: Map<string, string>;
  commit(): void | Promise<void>;
}

export interface ConsumerHealth {
  status: 'UP' | 'DOWN';
  state: 'starting' | 'consuming' | 'reconnecting' | 'stopped';
  detail?: string;
  /** Messages behind the end of the log, summed over the partitions this instance owns (when known). */
  lag?: number;
}

/**
 * Applies a message at most once: its id goes into processed_messages in the same transaction as the handler's
 * writes. Returns false, having changed nothing, when the message was applied before.
 */
export function applyOnce(pool: Pool, handler: MessageHandler, message: Envelope): Promise<boolean> {
  return withTransaction(pool, async (tx) => {
    const recorded = await tx.query(
      'INSERT INTO processed_messages (message_id, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [message.id, message.type],
    );
    if (recorded.rowCount === 0) return false;
    await handler.handle(tx, message);
    return true;
  });
}

/**
 * Applies several messages of one partition, in order, in one transaction: their ids go into processed_messages
 * with one statement, and each message not seen before is handed to its handler. Returns, for each message,
 * whether it was applied (false: a duplicate, by id, including a copy earlier in the same batch). Any error rolls
 * the whole batch back, and the caller applies the messages one by one.
 */
export function applyBatchOnce(
  pool: Pool,
  batch: ReadonlyArray<{
    handler: MessageHandler;
    message: Envelope;
    run?: (apply: () => Promise<void>) => Promise<void>;
  }>,
): Promise<boolean[]> {
  return withTransaction(pool, async (tx) => {
    const { rows } = await tx.query<{ message_id: string }>(
      `INSERT INTO processed_messages (message_id, topic)
       SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT DO NOTHING RETURNING message_id`,
      [batch.map((b) => b.message.id), batch.map((b) => b.message.type)],
    );
    const fresh = new Set(rows.map((r) => r.message_id));
    const applied: boolean[] = [];
    for (const { handler, message, run } of batch) {
      const first = fresh.delete(message.id);
      applied.push(first);
      if (!first) continue;
      const apply = () => handler.handle(tx, message);
      await (run === undefined ? apply() : run(apply));
    }
    return applied;
  });
}

/**
 * At-least-once delivery in, exactly-once effects out: the message id goes into processed_messages in the same
 * transaction as the handler's writes, and the Kafka offset is committed only after that transaction, or after
 * the message reached the dead-letter topic. Nothing moves past a message until one of the two has happened.
 *
 * A supervisor owns the Kafka consumer: when its stream ends with an error (the broker went away for longer than
 * the client's own retries, a rejoin failed), it closes it and builds a new one with backoff, so the loop
 * survives any outage. Messages it had not committed come again and are dropped by id.
 */
export class MessageConsumer {
  readonly #options: Required<Omit<MessageConsumerOptions, 'relay' | 'exitAfterDatabaseCommit'>> &
    Pick<MessageConsumerOptions, 'relay' | 'exitAfterDatabaseCommit'>;
  readonly #byTopic: Map<string, MessageHandler>;
  #running = false;
  #supervisor: Promise<void> | undefined;
  #stopping = new AbortController();
  #consumer: Consumer<string, string, string, string> | undefined;
  #stream: MessagesStream<string, string, string, string> | undefined;
  #state: ConsumerHealth['state'] = 'stopped';
  #lastError: string | undefined;
  readonly #outcomes: Counter<'topic' | 'outcome'>;
  readonly #retries: Counter<'topic' | 'kind'>;
  readonly #lag: Histogram<'topic'>;
  readonly #handling: Histogram<'topic'>;
  readonly #restarts: Counter;

  constructor(options: MessageConsumerOptions) {
    this.#options = {
      maxAttempts: 5,
      backoff: { initialMs: 100, maxMs: 10_000 },
      topicPrefix: '',
      maxInFlight: 512,
      maxBatch: 64,
      ...options,
    };
    this.#byTopic = new Map(options.handlers.map((h) => [`${this.#options.topicPrefix}${h.topic}`, h]));
    const registry = options.metrics.registry;
    // Several consumers can share one registry (one per service process, more in tests): one series set.
    this.#outcomes = metricOnce(
      registry,
      'saga_messages_consumed_total',
      () =>
        new Counter({
          name: 'saga_messages_consumed_total',
          help: 'Messages consumed, by outcome: applied, duplicate (dropped by id) or dead-lettered',
          labelNames: ['topic', 'outcome'] as const,
          registers: [registry],
        }),
    );
    this.#retries = metricOnce(
      registry,
      'saga_consumer_retries_total',
      () =>
        new Counter({
          name: 'saga_consumer_retries_total',
          help: 'Retries while handling a message: transient (a dependency away), unknown (an unexpected error) or dead-letter (the DLT publish failed)',
          labelNames: ['topic', 'kind'] as const,
          registers: [registry],
        }),
    );
    this.#restarts = metricOnce(
      registry,
      'saga_consumer_restarts_total',
      () =>
        new Counter({
          name: 'saga_consumer_restarts_total',
          help: 'Times the supervisor rebuilt the Kafka consumer after its stream ended with an error',
          registers: [registry],
        }),
    );
    const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    this.#lag = metricOnce(
      registry,
      'saga_message_lag_seconds',
      () =>
        new Histogram({
          name: 'saga_message_lag_seconds',
          help: 'From the moment a message was appended to Kafka to the moment its handling began',
          labelNames: ['topic'] as const,
          buckets,
          registers: [registry],
        }),
    );
    this.#handling = metricOnce(
      registry,
      'saga_message_handle_seconds',
      () =>
        new Histogram({
          name: 'saga_message_handle_seconds',
          help: 'Time to apply one message, transaction included',
          labelNames: ['topic'] as const,
          buckets,
          registers: [registry],
        }),
    );
    const self = this;
    metricOnce(
      registry,
      'saga_consumer_up',
      () =>
        new Gauge({
          name: 'saga_consumer_up',
          help: '1 while the saga consumer is consuming, 0 while it reconnects or is stopped',
          registers: [registry],
          collect() {
            this.set(self.#state === 'consuming' ? 1 : 0);
          },
        }),
    );
  }

  /** Starts the supervisor; resolves once the first consumer is consuming, or keeps trying in the background. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#stopping = new AbortController();
    this.#state = 'starting';
    let started: () => void = () => {};
    const first = new Promise<void>((resolve) => {
      started = resolve;
    });
    this.#supervisor = this.#supervise(started);
    // A broker that is down at start-up does not stop the service from starting: it consumes once Kafka is back.
    await Promise.race([first, pause(15_000, this.#stopping.signal)]);
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#stopping.abort();
    await this.#stream?.close().catch(() => {});
    await this.#supervisor;
    this.#state = 'stopped';
  }

  #handled(message: KafkaMessage): void {
    const topic = message.topic.slice(this.#options.topicPrefix.length);
    this.#lag.observe({ topic }, Math.max(0, Date.now() - Number(message.timestamp)) / 1000);
  }

  async health(): Promise<ConsumerHealth> {
    if (this.#state !== 'consuming')
      return { status: 'DOWN', state: this.#state, detail: this.#lastError ?? 'not consuming' };
    const lag = await this.#currentLag().catch(() => undefined);
    return { status: 'UP', state: this.#state, ...(lag === undefined ? {} : { lag }) };
  }

  async #currentLag(): Promise<number | undefined> {
    const consumer = this.#consumer;
    if (consumer === undefined) return undefined;
    const lags = await consumer.getLag({ topics: [...this.#byTopic.keys()] });
    let total = 0;
    for (const partitions of lags.values()) for (const lag of partitions) if (lag > 0n) total += Number(lag);
    return total;
  }

  async #supervise(started: () => void): Promise<void> {
    let failures = 0;
    while (this.#running) {
      const consumer = new Consumer({
        clientId: this.#options.clientId,
        groupId: this.#options.groupId,
        bootstrapBrokers: this.#options.brokers,
        deserializers: stringDeserializers,
        // Kafka's floor (group.min.session.timeout.ms): a crashed member's partitions move on after 6 s.
        sessionTimeout: 6000,
        heartbeatInterval: 1000,
        maxWaitTime: 100,
      });
      this.#consumer = consumer;
      const generation = new AbortController();
      // Without a listener, a failed rejoin is thrown from an EventEmitter and ends the process. Here it ends
      // this consumer's generation, and the supervisor builds a new one.
      consumer.on('error', (error: Error) => {
        this.#lastError = error.message;
        this.#options.logger.warn({ err: error }, 'Kafka consumer failed; it will be rebuilt');
        generation.abort();
        void this.#stream?.close().catch(() => {});
      });
      try {
        const stream = await consumer.consume({
          topics: [...this.#byTopic.keys()],
          autocommit: false,
          mode: 'committed',
          fallbackMode: 'earliest',
        });
        this.#stream = stream;
        stream.on('error', (error: Error) => {
          this.#lastError = error.message;
          generation.abort();
        });
        this.#state = 'consuming';
        this.#lastError = undefined;
        if (failures > 0) this.#options.logger.info({ after: failures }, 'Kafka consumer consuming again');
        failures = 0;
        started();
        await this.#run(stream, generation.signal);
      } catch (error) {
        this.#lastError = (error as Error).message;
      } finally {
        generation.abort();
        await this.#stream?.close().catch(() => {});
        this.#stream = undefined;
        await consumer.close(true).catch(() => {});
      }
      if (!this.#running) break;
      failures++;
      this.#state = 'reconnecting';
      this.#restarts.inc();
      if (failures === 1 || failures % 10 === 0)
        this.#options.logger.error(
          { failures, error: this.#lastError },
          'Kafka consumer stopped; reconnecting',
        );
      await pause(backoffDelay(failures, { initialMs: 500, maxMs: 15_000 }), this.#stopping.signal);
    }
  }

  /**
   * Partitions are handled side by side, each in order: one reservation's messages share a partition (they are
   * keyed by reservation id), so their order holds, while a slow handler on one partition no longer delays the
   * others. What has queued up on a partition meanwhile is applied as one batch, in one transaction: at
   * saturation that is one commit for many messages instead of one each (bench:saga measured it). At most
   * `maxInFlight` messages are taken from the stream ahead of their handling.
   */
  async #run(stream: MessagesStream<string, string, string, string>, generation: AbortSignal): Promise<void> {
    const lanes = new Map<string, KafkaMessage[]>();
    // A lane that failed in a way no handler caught: nothing more of its partition is handled (a later offset
    // committed would skip the failed message), and the stream is closed so the next generation reads it again.
    const broken = new Set<string>();
    const draining = new Set<Promise<void>>();
    let queued = 0;
    let roomMade: (() => void) | undefined;
    const drain = async (lane: string, queue: KafkaMessage[]) => {
      // The rest of a fetch arrives in the next few ticks: let it join the first message's batch.
      await new Promise((resolve) => setImmediate(resolve));
      try {
        while (queue.length > 0) {
          const batch = queue.splice(0, this.#options.maxBatch);
          try {
            await this.#handleBatch(batch, generation);
          } finally {
            queued -= batch.length;
            roomMade?.();
          }
        }
      } finally {
        // Left over when a batch threw: not handled, not committed; the next generation reads them again.
        queued -= queue.length;
        queue.length = 0;
        roomMade?.();
        lanes.delete(lane);
      }
    };
    try {
      for await (const message of stream) {
        if (generation.aborted) break;
        const lane = `${message.topic}/${message.partition}`;
        if (broken.has(lane)) continue;
        queued++;
        const waiting = lanes.get(lane);
        if (waiting !== undefined) waiting.push(message);
        else {
          const queue = [message];
          lanes.set(lane, queue);
          const work = drain(lane, queue).catch((error: Error) => {
            broken.add(lane);
            this.#lastError = error.message;
            this.#options.logger.error(
              { err: error, lane },
              'a partition lane failed; the consumer is rebuilt',
            );
            void this.#stream?.close().catch(() => {});
          });
          draining.add(work);
          void work.finally(() => draining.delete(work));
        }
        while (queued >= this.#options.maxInFlight && !generation.aborted)
          await new Promise<void>((resolve) => {
            roomMade = resolve;
          });
      }
    } finally {
      // A lane retrying a message gives up when its generation ends: the next generation receives it again.
      await Promise.allSettled(draining);
    }
  }

  /**
   * A run of one partition's messages. More than one, and all parse: one transaction for them all. If that fails
   * (a handler threw, the database went away), the messages are handled one by one, each with its own retries
   * and dead letter, as if no batch had been tried.
   */
  async #handleBatch(batch: KafkaMessage[], generation: AbortSignal): Promise<void> {
    if (batch.length > 1 && !generation.aborted) {
      const parsed = batch.map((m) => this.#parse(m));
      if (parsed.every((p) => p !== undefined)) {
        const started = performance.now();
        const applied = await applyBatchOnce(
          this.#options.pool,
          parsed.map(({ handler, envelope }, i) => ({
            handler,
            message: envelope,
            run: (apply) =>
              this.#inConsumerSpan(batch[i]!, async (span) => {
                await apply();
                span.setAttribute('reservex.outcome', 'applied');
              }),
          })),
        ).catch(() => undefined);
        if (applied !== undefined) {
          if (applied.some(Boolean)) this.#options.relay?.wake();
          this.#exitIfAsked(parsed[0]!.envelope.id);
          const seconds = (performance.now() - started) / 1000;
          batch.forEach((message, i) => {
            const topic = message.topic.slice(this.#options.topicPrefix.length);
            this.#handled(message);
            this.#handling.observe({ topic }, seconds);
            this.#outcomes.inc({ topic: message.topic, outcome: applied[i] ? 'applied' : 'duplicate' });
          });
          this.#commitOffset(batch.at(-1)!);
          return;
        }
      }
    }
    for (const message of batch) await this.#handle(message, generation);
  }

  #parse(message: KafkaMessage): { handler: MessageHandler; envelope: Envelope } | undefined {
    const handler = this.#byTopic.get(message.topic);
    if (handler === undefined) return undefined;
    try {
      return { handler, envelope: parseMessage(handler.topic, message.value ?? '') };
    } catch {
      return undefined;
    }
  }

  #inConsumerSpan<T>(message: KafkaMessage, work: (span: Span) => Promise<T>): Promise<T> {
    const topic = message.topic.slice(this.#options.topicPrefix.length);
    // A child of the span that wrote the message (its traceparent travelled in the headers), so the handler's
    // own messages, and its log lines, stay in the same trace.
    return inSpan(
      this.#options.tracer,
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
          'messaging.message.id': message.headers.get('message-id') ?? '',
          'messaging.consumer.group.name': this.#options.groupId,
        },
      },
      work,
    );
  }

  #exitIfAsked(messageId: string): void {
    if (!this.#options.exitAfterDatabaseCommit) return;
    this.#options.logger.warn({ messageId }, 'exitAfterDatabaseCommit: exiting before the offset commit');
    process.exit(137);
  }

  #commitOffset(message: KafkaMessage): void {
    // Not awaited: waiting for the broker on every message cut throughput tenfold (7 ms → 0.7 ms each). The
    // client merges commits per partition and keeps them monotonic; a commit that is late or lost in a crash
    // only means the message is read again, and processed_messages drops it.
    void (message.commit() as Promise<void>).catch((e: Error) =>
      this.#options.logger.warn({ err: e }, 'offset commit failed'),
    );
  }

  async #handle(message: KafkaMessage, generation: AbortSignal): Promise<void> {
    if (generation.aborted) return;
    const topic = message.topic.slice(this.#options.topicPrefix.length);
    this.#handled(message);
    const endHandling = this.#handling.startTimer({ topic });
    const outcome = await this.#inConsumerSpan(message, async (span) => {
      const result = await this.#process(message, generation);
      span.setAttribute('reservex.outcome', result ?? 'abandoned');
      if (result === 'dead-lettered') markSpanFailed(span, 'dead-lettered');
      return result;
    });
    endHandling();
    // Abandoned: this consumer's generation ended while the message was being retried. Its offset stays
    // uncommitted, so the next generation (or another instance) receives it again.
    if (outcome === undefined) return;
    this.#outcomes.inc({ topic: message.topic, outcome });
    this.#commitOffset(message);
  }

  /** Applies the message or dead-letters it; undefined when the generation ended first. */
  async #process(message: KafkaMessage, generation: AbortSignal): Promise<Outcome | undefined> {
    const handler = this.#byTopic.get(message.topic);
    let envelope: Envelope;
    try {
      if (handler === undefined) throw new ContractViolation(`no handler for ${message.topic}`);
      envelope = parseMessage(handler.topic, message.value ?? '');
    } catch (error) {
      // A malformed message will never parse: straight to the dead-letter topic, so it cannot block its partition.
      return this.#deadLetter(message, error as Error, 0, generation);
    }
    let unknownFailures = 0;
    for (let attempt = 1; ; attempt++) {
      if (generation.aborted) return undefined;
      try {
        const fresh = await applyOnce(this.#options.pool, handler!, envelope);
        if (fresh) this.#options.relay?.wake();
        this.#exitIfAsked(envelope.id);
        return fresh ? 'applied' : 'duplicate';
      } catch (error) {
        if (error instanceof PermanentMessageError || error instanceof ContractViolation)
          return this.#deadLetter(message, error, attempt, generation);
        const transient = isTransientError(error);
        // A dependency that is away is waited for, however long: dead-lettering a valid message because
        // PostgreSQL failed over would lose a payment or a seat. Only an unexpected error has a budget.
        if (!transient && ++unknownFailures >= this.#options.maxAttempts)
          return this.#deadLetter(message, error as Error, attempt, generation);
        this.#retries.inc({ topic: message.topic, kind: transient ? 'transient' : 'unknown' });
        if (attempt === 1 || attempt % 20 === 0)
          this.#options.logger.warn(
            { err: error, topic: message.topic, messageId: envelope.id, attempt, transient },
            'message handler failed; retrying',
          );
        await pause(backoffDelay(attempt, this.#options.backoff), generation);
      }
    }
  }

  /**
   * Publishes the original bytes to `<topic>.dlt`, retrying until the broker takes them: the message's offset is
   * committed only after that, so a dead letter that could not be written is never silently skipped.
   */
  async #deadLetter(
    message: KafkaMessage,
    error: Error,
    attempts: number,
    generation: AbortSignal,
  ): Promise<Outcome | undefined> {
    const failedAt = new Date().toISOString();
    this.#options.logger.error(
      { err: error, topic: message.topic, partition: message.partition, offset: String(message.offset) },
      'dead-lettering',
    );
    for (let attempt = 1; ; attempt++) {
      if (generation.aborted) return undefined;
      try {
        await this.#options.producer.send({
          messages: [
            {
              topic: deadLetterTopic(message.topic),
              key: message.key ?? '',
              value: message.value ?? '',
              headers: {
                ...Object.fromEntries(message.headers ?? []),
                'dlt-original-topic': message.topic,
                'dlt-original-partition': String(message.partition),
                'dlt-original-offset': String(message.offset),
                'dlt-error': error.message.slice(0, 1000),
                'dlt-attempts': String(attempts),
                'dlt-failed-at': failedAt,
                'dlt-group': this.#options.groupId,
              },
            },
          ],
        });
        return 'dead-lettered';
      } catch (publishError) {
        this.#retries.inc({ topic: message.topic, kind: 'dead-letter' });
        if (attempt === 1 || attempt % 20 === 0)
          this.#options.logger.error(
            { err: publishError, topic: message.topic, offset: String(message.offset), attempt },
            'dead-letter publish failed; the partition waits for it',
          );
        await pause(backoffDelay(attempt, this.#options.backoff), generation);
      }
    }
  }
}
