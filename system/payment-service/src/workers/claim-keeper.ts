import type { Logger, Pool } from '@reservex/kit';
import { type ClaimedPayment, extendLease, type LeasedStatus } from '../store/payments.ts';

export interface ClaimKeeping {
  pool: Pool;
  logger: Logger;
  leaseSeconds: number;
}

/**
 * Runs `calls` (to the provider: each can take up to the gateway's deadline) while keeping the claim on the payment
 * alive, so that no other attempt claims it meanwhile. The lease is extended every third of its length, by the
 * claim's holder only (same attempt number) and only while the payment is still `status`. An extension still in
 * flight when the calls end is waited for: landing after the settlement, it would lease the payment again.
 */
export async function keepingTheClaim<T>(
  keeping: ClaimKeeping,
  claimed: Pick<ClaimedPayment, 'id' | 'attempts'>,
  status: LeasedStatus,
  calls: () => Promise<T>,
): Promise<T> {
  const { pool, logger, leaseSeconds } = keeping;
  let extending: Promise<void> | undefined;
  const keepAlive = setInterval(
    () => {
      // One extension at a time: with the pool saturated they would otherwise pile up behind each other.
      extending ??= extendLease(pool, claimed.id, claimed.attempts, leaseSeconds, status)
        .then(
          () => {},
          (error: Error) => logger.warn({ err: error, paymentId: claimed.id }, 'could not extend the lease'),
        )
        .finally(() => {
          extending = undefined;
        });
    },
    Math.max(250, (leaseSeconds * 1000) / 3),
  );
  try {
    return await calls();
  } finally {
    clearInterval(keepAlive);
    await extending;
  }
}
