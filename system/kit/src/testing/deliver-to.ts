import type { Envelope } from '@reservex/contracts';
import { applyOnce, type MessageHandler } from '../apply-once.ts';
import type { Pool } from '../db.ts';

/**
 * Applies a message as the service's consumer would: once per message id, in one transaction with its effects,
 * by the handler of its topic. For tests that deliver the saga's messages by hand; true when it was applied.
 */
export function deliverTo(pool: Pool, handlers: readonly MessageHandler[]) {
  const byTopic = new Map(handlers.map((h) => [h.topic as string, h]));
  return (message: Envelope): Promise<boolean> => {
    const handler = byTopic.get(message.type);
    if (handler === undefined) throw new Error(`no handler for ${message.type}`);
    return applyOnce(pool, handler, message);
  };
}
