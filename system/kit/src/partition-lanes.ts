/** A record as the consumer's stream yields it. */
export interface KafkaMessage {
  topic: string;
  partition: number;
  offset: bigint;
  key: string;
  value: string;
  timestamp: bigint;
  headers: Map<string, string>;
  commit(): void | Promise<void>;
}

export interface PartitionLanesOptions {
  /** Messages taken from the stream ahead of their handling, across all partitions. */
  maxInFlight: number;
  /** At most this many messages of one partition are handed over at once. */
  maxBatch: number;
  /** Handles a run of one partition's messages, in order. Throwing breaks the lane. */
  handleBatch(batch: KafkaMessage[]): Promise<void>;
  /** A lane failed in a way no handler caught: the caller ends the generation, so the next one reads it again. */
  onBroken(lane: string, error: Error): void;
}

/**
 * Partitions are handled side by side, each in order: one reservation's messages share a partition (they are
 * keyed by reservation id), so their order holds, while a slow handler on one partition does not delay the
 * others. What has queued up on a partition meanwhile is handed over as one batch: at saturation the consumer
 * applies it in one transaction instead of one each (bench:saga measured it). At most `maxInFlight` messages are
 * taken from the stream ahead of their handling. Returns when the stream ends or the generation does, once every
 * lane has stopped.
 */
export async function consumeInLanes(
  stream: AsyncIterable<KafkaMessage>,
  generation: AbortSignal,
  options: PartitionLanesOptions,
): Promise<void> {
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
        const batch = queue.splice(0, options.maxBatch);
        try {
          await options.handleBatch(batch);
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
          options.onBroken(lane, error);
        });
        draining.add(work);
        void work.finally(() => draining.delete(work));
      }
      while (queued >= options.maxInFlight && !generation.aborted)
        await new Promise<void>((resolve) => {
          roomMade = resolve;
        });
    }
  } finally {
    // A lane retrying a message gives up when its generation ends: the next generation receives it again.
    await Promise.allSettled(draining);
  }
}
