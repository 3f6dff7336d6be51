import { BackgroundLoop, type Logger, type Pool } from '@reservex/kit';
import { chargeKey, type Gateway, refundKey } from '../gateway/gateway.ts';
import type { GatewayMetrics } from '../payment-metrics.ts';
import { claimRefunds } from '../store/payments.ts';
import { completeRefund } from '../use-cases/complete-refund.ts';

export interface RefunderOptions {
  pool: Pool;
  gateway: Gateway;
  logger: Logger;
  metrics: GatewayMetrics;
  relay: { wake(): void };
  leaseSeconds: number;
  idleMs: number;
}

/**
 * Gives money back: every REFUNDING payment is refunded at the gateway, under its refund key, and retried (its
 * lease runs out, another pass claims it) until the gateway confirms. The key makes a retried refund never a
 * second refund.
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

  /** One pass over what is due; returns how many refunds the gateway confirmed. */
  async refundDue(batch = 50): Promise<number> {
    const { pool, gateway, metrics, relay, leaseSeconds, logger } = this.#options;
    const due = await claimRefunds(pool, batch, leaseSeconds);
    let done = 0;
    await Promise.all(
      due.map(async (payment) => {
        try {
          const result = await gateway.refund(
            refundKey(payment.reservationId),
            chargeKey(payment.reservationId),
            payment.amount,
          );
          metrics.refunded(result.kind);
          if (result.kind !== 'refunded') return;
          await completeRefund(pool, payment.id);
          done++;
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
