import { ContractViolation, type Envelope, parseMessage } from '@reservex/contracts';
import { applyBatchOnce, applyOnce, type MessageHandler } from './apply-once.ts';
import { type BackoffPolicy, backoffDelay, pause } from './backoff.ts';
import { type ConsumerMetrics, consumerMetrics } from './consumer-metrics.ts';
import { type ConsumerHealth, ConsumerSupervisor } from './consumer-supervisor.ts';
import type { Pool } from './db.ts';
import { deadLetter, PermanentMessageError } from './dead-letter.ts';
import type { StringProducer } from './kafka.ts';
import type { Logger } from './logger.ts';
import type { ServiceMetrics } from './metrics.ts';
import { consumeInLanes, type KafkaMessage } from './partition-lanes.ts';
import { extractTraceContext, inSpan, markSpanFailed, type Span, SpanKind, type Tracer } from './tracing.ts';
import { isTransientError } from './transient-errors.ts';

// The consumer's parts, each in its own file: what a handler is and how a message is applied once (apply-once.ts),
// the Kafka consumer rebuilt after any outage (consumer-supervisor.ts), partitions handled side by side
// (partition-lanes.ts), and what cannot be applied (dead-letter.ts).
export { applyBatchOnce, applyOnce, type MessageHandler, on } from './apply-once.ts';
export type { ConsumerHealth } from './consumer-supervisor.ts';
export { PermanentMessageError } from './dead-letter.ts';

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

/**
 * At-least-once delivery in, exactly-once effects out: the message id goes into processed_messages in the same
 * transaction as the handler's writes, and the Kafka offset is committed only after that transaction, or after
 * the message reached the dead-letter topic. Nothing moves past a message until one of the two has happened.
 *
 * A supervisor owns the Kafka consumer and rebuilds it after any outage; messages it had not committed come again
 * and are dropped by id.
 */
export class MessageConsumer {
  readonly #options: Required<Omit<MessageConsumerOptions, 'relay' | 'exitAfterDatabaseCommit'>> &
    Pick<MessageConsumerOptions, 'relay' | 'exitAfterDatabaseCommit'>;
  readonly #byTopic: Map<string, MessageHandler>;
  readonly #supervisor: ConsumerSupervisor;
  readonly #metrics: ConsumerMetrics;

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
    this.#metrics = consumerMetrics(options.metrics.registry, () => this.#supervisor.state === 'consuming');
    this.#supervisor = new ConsumerSupervisor({
      clientId: options.clientId,
      groupId: options.groupId,
      brokers: options.brokers,
      topics: [...this.#byTopic.keys()],
      logger: options.logger,
      restarts: this.#metrics.restarts,
      consume: (stream, generation) =>
        consumeInLanes(stream, generation, {
          maxInFlight: this.#options.maxInFlight,
          maxBatch: this.#options.maxBatch,
          handleBatch: (batch) => this.#handleBatch(batch, generation),
          onBroken: (lane, error) => {
            this.#options.logger.error(
              { err: error, lane },
              'a partition lane failed; the consumer is rebuilt',
            );
            this.#supervisor.endGeneration(error);
          },
        }),
    });
  }

  /** Starts the supervisor; resolves once the first consumer is consuming, or keeps trying in the background. */
  start(): Promise<void> {
    return this.#supervisor.start();
  }

  stop(): Promise<void> {
    return this.#supervisor.stop();
  }

  health(): Promise<ConsumerHealth> {
    return this.#supervisor.health();
  }

  #topicOf(message: KafkaMessage): string {
    return message.topic.slice(this.#options.topicPrefix.length);
  }

  #handled(message: KafkaMessage): void {
    const lag = Math.max(0, Date.now() - Number(message.timestamp)) / 1000;
    this.#metrics.lag.observe({ topic: this.#topicOf(message) }, lag);
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
            this.#handled(message);
            this.#metrics.handling.observe({ topic: this.#topicOf(message) }, seconds);
            this.#metrics.outcomes.inc({
              topic: message.topic,
              outcome: applied[i] ? 'applied' : 'duplicate',
            });
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
    // A child of the span that wrote the message (its traceparent travelled in the headers), so the handler's
    // own messages, and its log lines, stay in the same trace.
    return inSpan(
      this.#options.tracer,
      `${this.#topicOf(message)} process`,
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
    this.#handled(message);
    const endHandling = this.#metrics.handling.startTimer({ topic: this.#topicOf(message) });
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
    this.#metrics.outcomes.inc({ topic: message.topic, outcome });
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
        this.#metrics.retries.inc({ topic: message.topic, kind: transient ? 'transient' : 'unknown' });
        if (attempt === 1 || attempt % 20 === 0)
          this.#options.logger.warn(
            { err: error, topic: message.topic, messageId: envelope.id, attempt, transient },
            'message handler failed; retrying',
          );
        await pause(backoffDelay(attempt, this.#options.backoff), generation);
      }
    }
  }

  async #deadLetter(
    message: KafkaMessage,
    error: Error,
    attempts: number,
    generation: AbortSignal,
  ): Promise<Outcome | undefined> {
    const { producer, groupId, logger, backoff } = this.#options;
    const published = await deadLetter(message, error, attempts, generation, {
      producer,
      groupId,
      logger,
      backoff,
      retries: this.#metrics.retries,
    });
    return published ? 'dead-lettered' : undefined;
  }
}
