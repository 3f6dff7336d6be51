import type { Envelope, Topic } from '@reservex/contracts';
import { type Pool, type PoolClient, withTransaction } from './db.ts';

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
