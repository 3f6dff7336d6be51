import { BackgroundLoop, type Logger, type Pool } from '@reservex/kit';
import { backoffMs } from '../domain/payment-saga.ts';
import { chargeKey, type Gateway, refundKey } from '../gateway/gateway.ts';
import type { GatewayMetrics } from '../payment-metrics.ts';
import { claimRefunds, refundAgainLater } from '../store/payments.ts';
import { completeRefund } from '../use-cases/complete-refund.ts';

export interface RefunderOptions {
  pool: Pool;
  gateway: Gateway;
  logger: Logger;
  metrics: GatewayMetrics;
  relay: { wake(): void };
  leaseSeconds: number;
  idleMs: number;
  backoff: { baseMs: number; maxMs: number };
}

/**
 * Gives money back: every REFUNDING payment is refunded at the provider, under its refund key, and retried with
 * backoff until the provider confirms it: a refund whose answer was lost may or may not have happened, and the
 * key makes a retried refund never a second refund.
 */
export class Refunder {
  readonly #options: RefunderOptions;
  readonly #loop: BackgroundLoop;

  constructor(options: RefunderOptions) {
    this.#options = options;
    this.#loop = new BackgroundLoop({
      name: 'refunder',
      logger: options.logger,
      idleMs: options.idleMs,
      pass: async () => ((await this.refundDue()) > 0 ? 'busy' : 'idle'),
    });
  }

  start(): void {
    this.#loop.start();
  }

  wake(): void {
    this.#loop.wake();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** One pass over what is due; returns how many refunds the provider confirmed. */
  async refundDue(batch = 50): Promise<number> {
    const { pool, gateway, metrics, relay, leaseSeconds, logger, backoff } = this.#options;
    const due = await claimRefunds(pool, batch, leaseSeconds);
    let done = 0;
    await Promise.all(
      due.map(async (payment) => {
        try {
          const answer = await gateway.refund(
            refundKey(payment.reservationId),
            chargeKey(payment.reservationId),
            payment.amount,
          );
          metrics.refunded(answer.kind === 'unknown' ? `unknown-${answer.why}` : answer.kind);
          if (answer.kind === 'refunded') {
            await completeRefund(pool, payment.id);
            done++;
            return;
          }
          if (answer.kind === 'rejected')
            logger.error(
              { paymentId: payment.id, why: answer.why },
              'the provider refuses this refund: the payment and the provider disagree',
            );
          // Unknown: asked again under the same key, which never refunds twice.
          await refundAgainLater(pool, payment.id, backoffMs(payment.refundAttempts, backoff));
        } catch (error) {
          logger.warn(
            { err: error, paymentId: payment.id },
            'refund failed; retried when its lease runs out',
          );
        }
      }),
    );
    if (done > 0) relay.wake();
    return done;
  }
}
