import { Consumer, type MessagesStream, stringDeserializers } from '@platformatic/kafka';
import type { Counter } from 'prom-client';
import { backoffDelay, pause } from './backoff.ts';
import type { Logger } from './logger.ts';

export interface ConsumerHealth {
  status: 'UP' | 'DOWN';
  state: 'starting' | 'consuming' | 'reconnecting' | 'stopped';
  detail?: string;
  /** Messages behind the end of the log, summed over the partitions this instance owns (when known). */
  lag?: number;
}

export type ConsumerStream = MessagesStream<string, string, string, string>;

export interface ConsumerSupervisorOptions {
  clientId: string;
  groupId: string;
  brokers: string[];
  topics: string[];
  logger: Logger;
  /** Counts each time the Kafka consumer is rebuilt. */
  restarts: Counter;
  /** Consumes one generation's stream, until it ends or the generation does. */
  consume(stream: ConsumerStream, generation: AbortSignal): Promise<void>;
}

/**
 * Owns the Kafka consumer: when its stream ends with an error (the broker went away for longer than the client's
 * own retries, a rejoin failed), it closes it and builds a new one with backoff, so the loop survives any outage.
 * Each Kafka consumer is a generation; messages a generation had not committed come again in the next one.
 */
export class ConsumerSupervisor {
  readonly #options: ConsumerSupervisorOptions;
  #running = false;
  #supervisor: Promise<void> | undefined;
  #stopping = new AbortController();
  #consumer: Consumer<string, string, string, string> | undefined;
  #stream: ConsumerStream | undefined;
  #state: ConsumerHealth['state'] = 'stopped';
  #lastError: string | undefined;

  constructor(options: ConsumerSupervisorOptions) {
    this.#options = options;
  }

  get state(): ConsumerHealth['state'] {
    return this.#state;
  }

  /** Starts supervising; resolves once the first consumer is consuming, or keeps trying in the background. */
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

  /** Ends the current generation: its stream closes, and the next generation reads on from the last commit. */
  endGeneration(error: Error): void {
    this.#lastError = error.message;
    void this.#stream?.close().catch(() => {});
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
    const lags = await consumer.getLag({ topics: this.#options.topics });
    let total = 0;
    for (const partitions of lags.values()) for (const lag of partitions) if (lag > 0n) total += Number(lag);
    return total;
  }

  async #supervise(started: () => void): Promise<void> {
    const { logger } = this.#options;
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
        logger.warn({ err: error }, 'Kafka consumer failed; it will be rebuilt');
        generation.abort();
        void this.#stream?.close().catch(() => {});
      });
      try {
        const stream = await consumer.consume({
          topics: this.#options.topics,
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
        if (failures > 0) logger.info({ after: failures }, 'Kafka consumer consuming again');
        failures = 0;
        started();
        await this.#options.consume(stream, generation.signal);
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
      this.#options.restarts.inc();
      if (failures === 1 || failures % 10 === 0)
        logger.error({ failures, error: this.#lastError }, 'Kafka consumer stopped; reconnecting');
      await pause(backoffDelay(failures, { initialMs: 500, maxMs: 15_000 }), this.#stopping.signal);
    }
  }
}
