import { Admin } from '@platformatic/kafka';
import type { PassResult } from './background-loop.ts';
import { BackgroundWorker } from './background-worker.ts';
import type { Logger } from './logger.ts';

/** One look at a partition: the log's end offset then, and how far the group had committed. */
export interface PartitionReading {
  partition: string;
  /** The offset the next message appended will get. */
  end: bigint;
  /** The next offset the group will read (its committed offset, or the log's start when it has none). */
  committed: bigint;
}

const MAX_PENDING = 1000;

/**
 * Up to when a consumer group has consumed a log, from readings of the log itself: a reading taken at time t saw
 * end offset e, so every message appended before t is below e; once the group has committed e, all of them were
 * consumed. The latest such t, over the partition that is furthest behind, is the time the group has consumed
 * through. Nothing here depends on the consumer being up: a group that is down, rebalancing or not started yet
 * commits nothing, so the time stays where it was while the log grows, which is what "behind" means.
 */
export class ConsumedThrough {
  /** Per partition: readings (time, end offset) not yet known to be consumed, oldest first, after the anchor. */
  readonly #pending = new Map<string, Array<{ at: number; end: bigint }>>();
  /** Per partition: the time of the latest reading whose end offset the group has committed. */
  readonly #anchor = new Map<string, number>();

  /** Records readings all taken at `at` (the moment the question was sent: the answer covers at least that). */
  record(at: number, readings: readonly PartitionReading[]): void {
    for (const { partition, end, committed } of readings) {
      const pending = this.#pending.get(partition) ?? [];
      // Of readings with the same end, the latest says the most; and a group stuck for hours keeps a bounded
      // list (dropping the oldest only makes the answer earlier than it could be, never later).
      if (pending.at(-1)?.end === end) pending.at(-1)!.at = at;
      else pending.push({ at, end });
      if (pending.length > MAX_PENDING) pending.shift();
      let consumed = 0;
      while (consumed < pending.length && pending[consumed]!.end <= committed) consumed++;
      if (consumed > 0) {
        this.#anchor.set(partition, pending[consumed - 1]!.at);
        pending.splice(0, consumed);
      }
      this.#pending.set(partition, pending);
    }
  }

  /**
   * Every message appended before this moment has been consumed, on every partition read so far; undefined while
   * that is not known (nothing read yet, or a partition whose group has not caught up with any reading).
   */
  time(): number | undefined {
    if (this.#pending.size === 0) return undefined;
    let through = Number.POSITIVE_INFINITY;
    for (const partition of this.#pending.keys()) {
      const anchor = this.#anchor.get(partition);
      if (anchor === undefined) return undefined;
      through = Math.min(through, anchor);
    }
    return through;
  }
}

export interface ConsumerBacklogOptions {
  brokers: string[];
  clientId: string;
  groupId: string;
  /** Full topic names (prefix included) whose backlog counts. */
  topics: string[];
  logger: Logger;
  /** How often the log is read. */
  intervalMs: number;
}

/**
 * How far a consumer group has consumed some topics, read from Kafka (end offsets against the group's committed
 * offsets) on a timer. ticket-service's hold sweep waits on it (docs/saga.md, the hold rule): a result that is on
 * the log and not yet consumed does not count against the fan, however the consumer is doing.
 */
export class ConsumerBacklog extends BackgroundWorker {
  readonly #options: ConsumerBacklogOptions;
  readonly #admin: Admin;
  readonly #through = new ConsumedThrough();

  constructor(options: ConsumerBacklogOptions) {
    super({
      name: 'consumer backlog',
      logger: options.logger,
      idleMs: options.intervalMs,
      backoff: { initialMs: options.intervalMs, maxMs: 5000 },
    });
    this.#options = options;
    this.#admin = new Admin({
      clientId: `${options.clientId}-backlog`,
      bootstrapBrokers: options.brokers,
      retries: 0,
    });
  }

  protected override async pass(): Promise<PassResult> {
    await this.measure();
    return 'idle';
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.#admin.close().catch(() => {});
  }

  /** Everything appended before this moment has been consumed; undefined while not known (see ConsumedThrough). */
  consumedThrough(): number | undefined {
    return this.#through.time();
  }

  /** Reads the log once. A failure records nothing: the time consumed through stays, and so falls behind. */
  async measure(): Promise<void> {
    const at = Date.now();
    const { topics, groupId } = this.#options;
    const metadata = await this.#admin.metadata({ topics, forceUpdate: false });
    const partitions = topics.map((name) => ({
      name,
      indexes: [...Array(metadata.topics.get(name)?.partitionsCount ?? 0).keys()],
    }));
    const offsets = (timestamp: bigint) =>
      this.#admin.listOffsets({
        topics: partitions.map((t) => ({
          name: t.name,
          partitions: t.indexes.map((partitionIndex) => ({ partitionIndex, timestamp })),
        })),
      });
    const [ends, groups] = await Promise.all([
      offsets(-1n),
      this.#admin.listConsumerGroupOffsets({
        groups: [{ groupId, topics: partitions.map((t) => ({ name: t.name, partitionIndexes: t.indexes })) }],
      }),
    ]);
    const committed = new Map<string, bigint>();
    for (const topic of groups[0]?.topics ?? [])
      for (const p of topic.partitions)
        if (p.committedOffset >= 0n) committed.set(`${topic.name}/${p.partitionIndex}`, p.committedOffset);
    // A partition the group never committed on is read from the log's start (the consumer's fallback).
    const uncommitted = ends.some((t) =>
      t.partitions.some((p) => !committed.has(`${t.name}/${p.partitionIndex}`)),
    );
    const starts = new Map<string, bigint>();
    if (uncommitted)
      for (const t of await offsets(-2n))
        for (const p of t.partitions) starts.set(`${t.name}/${p.partitionIndex}`, p.offset);
    const readings: PartitionReading[] = ends.flatMap((t) =>
      t.partitions.map((p) => {
        const partition = `${t.name}/${p.partitionIndex}`;
        return {
          partition,
          end: p.offset,
          committed: committed.get(partition) ?? starts.get(partition) ?? 0n,
        };
      }),
    );
    if (readings.length === 0) throw new Error(`no partitions found for ${topics.join(', ')}`);
    this.#through.record(at, readings);
  }
}
