import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer, type MessagesStream, stringDeserializers } from '@platformatic/kafka';
import { TOPICS } from '@reservex/contracts';
import { createProducer, type StringProducer } from '@reservex/kit';

export interface RedeliveryOptions {
  brokers: string[];
  prefix: string;
  share: number;
  delayMs: { min: number; max: number };
  random: () => number;
  log: (m: string) => void;
}

interface Copy {
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

/**
 * Sends a share of the saga's messages again, through Kafka itself: exact copies (same key, value and headers,
 * so the same message id), each after a random delay, so that they arrive late and out of order with what came
 * after them. The services must apply each message once. It reads only what is published after it starts, and
 * rides out a broker restart: reading resumes and a copy that cannot be sent is tried again.
 */
export class Redeliverer {
  readonly byTopic = new Map<string, number>();
  #sent = 0;
  /** Copies whose delay has not run out yet, with their timers. */
  readonly #waiting = new Map<Copy, NodeJS.Timeout>();
  readonly #sending = new Set<Promise<void>>();
  readonly #stopping = new AbortController();
  readonly o: RedeliveryOptions;
  #loop: Promise<void> | undefined;
  #producer: StringProducer | undefined;

  constructor(options: RedeliveryOptions) {
    this.o = options;
  }

  /** Copies sent so far. */
  get redelivered(): number {
    return this.#sent;
  }

  async start(): Promise<void> {
    this.#producer = createProducer(this.o.brokers, 'harness-redelivery');
    const ready = Promise.withResolvers<void>();
    this.#loop = this.#read(ready.resolve);
    await Promise.race([ready.promise, sleep(15_000)]);
  }

  async #read(onReading: () => void): Promise<void> {
    const topics = Object.values(TOPICS).map((t) => `${this.o.prefix}${t}`);
    while (!this.#stopping.signal.aborted) {
      const consumer = new Consumer({
        clientId: 'harness-redelivery',
        groupId: `harness-redelivery-${randomUUID()}`,
        bootstrapBrokers: this.o.brokers,
        deserializers: stringDeserializers,
        maxWaitTime: 200,
      });
      let stream: MessagesStream<string, string, string, string> | undefined;
      try {
        stream = await consumer.consume({ topics, mode: 'latest', autocommit: true });
        onReading();
        const aborted = () => void stream?.close().catch(() => {});
        this.#stopping.signal.addEventListener('abort', aborted, { once: true });
        for await (const m of stream) {
          if (this.o.random() >= this.o.share) continue;
          this.#schedule({
            topic: m.topic,
            key: m.key,
            value: m.value,
            headers: Object.fromEntries(
              [...(m.headers ?? new Map())].map(([k, v]) => [String(k), String(v)]),
            ),
          });
        }
        this.#stopping.signal.removeEventListener('abort', aborted);
      } catch (error) {
        if (!this.#stopping.signal.aborted)
          this.o.log(`redelivery: reading stopped (${(error as Error).message}); resuming`);
      } finally {
        await stream?.close().catch(() => {});
        await consumer.close(true).catch(() => {});
      }
      if (!this.#stopping.signal.aborted) await sleep(1000);
    }
  }

  #schedule(copy: Copy): void {
    const { min, max } = this.o.delayMs;
    const timer = setTimeout(
      () => {
        this.#waiting.delete(copy);
        this.#launch(copy);
      },
      min + this.o.random() * (max - min),
    );
    this.#waiting.set(copy, timer);
  }

  #launch(copy: Copy): void {
    const sending = this.#send(copy).finally(() => this.#sending.delete(sending));
    this.#sending.add(sending);
  }

  async #send(copy: Copy, tries = 0): Promise<void> {
    try {
      await this.#producer!.send({ messages: [copy] });
      this.#sent++;
      const topic = copy.topic.slice(this.o.prefix.length);
      this.byTopic.set(topic, (this.byTopic.get(topic) ?? 0) + 1);
    } catch (error) {
      // The broker is away (a scenario's own fault): try again shortly, for up to a few minutes.
      if (tries >= 120) {
        this.o.log(`redelivery: gave up on a copy of ${copy.topic}: ${(error as Error).message}`);
        return;
      }
      await sleep(1000);
      await this.#send(copy, tries + 1);
    }
  }

  /** Stops reading and sends every copy still waiting at once, so the check sees them all applied. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
    for (const [copy, timer] of this.#waiting) {
      clearTimeout(timer);
      this.#launch(copy);
    }
    this.#waiting.clear();
    await Promise.all([...this.#sending]);
    await this.#producer?.close().catch(() => {});
  }
}
