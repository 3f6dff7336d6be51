import { BackgroundWorker, type Logger, type PassResult, type Pool } from '@reservex/kit';
import { backoffMs, onRefundAnswer, onRefundDue } from '../domain/payment-saga.ts';
import { chargeKey, type Gateway, refundKey } from '../gateway/gateway.ts';
import type { GatewayMetrics } from '../payment-metrics.ts';
import { claimRefunds, refundAgainLater } from '../store/payments.ts';
import { completeRefund } from '../use-cases/complete-refund.ts';
import { refuseRefund } from '../use-cases/refuse-refund.ts';

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
 * backoff until the provider answers: a refund whose answer was lost may or may not have happened, and the key
 * makes a retried refund never a second refund. A refund of nothing (a free seat) is complete without asking; one
 * the provider refuses for good is REFUND_REFUSED, counted and logged, and never asked again.
 */
export class Refunder extends BackgroundWorker {
  readonly #options: RefunderOptions;

  constructor(options: RefunderOptions) {
    super({ name: 'refunder', logger: options.logger, idleMs: options.idleMs });
    this.#options = options;
  }

  protected override async pass(): Promise<PassResult> {
    return (await this.refundDue()) > 0 ? 'busy' : 'idle';
  }

  /** One pass over what is due; returns how many refunds were completed. */
  async refundDue(batch = 50): Promise<number> {
    const { pool, gateway, metrics, relay, leaseSeconds, logger, backoff } = this.#options;
    const due = await claimRefunds(pool, batch, leaseSeconds);
    let done = 0;
    await Promise.all(
      due.map(async (payment) => {
        try {
          if (onRefundDue(payment).kind === 'complete') {
            await completeRefund(pool, payment.id);
            done++;
            return;
          }
          const answer = await gateway.refund(
            refundKey(payment.reservationId),
            chargeKey(payment.reservationId),
            payment.amount,
          );
          metrics.refunded(answer.kind === 'unknown' ? `unknown-${answer.why}` : answer.kind);
          const decision = onRefundAnswer(answer);
          switch (decision.kind) {
            case 'complete':
              await completeRefund(pool, payment.id);
              done++;
              return;
            case 'refuse':
              if (!(await refuseRefund(pool, payment.id, decision.reason))) return;
              metrics.refundRefused();
              logger.error(
                {
                  paymentId: payment.id,
                  reservationId: payment.reservationId,
                  amount: payment.amount,
                  why: decision.reason,
                },
                'the provider refuses this refund for good: REFUND_REFUSED, for an operator (npm run payments -- refused)',
              );
              return;
            case 'retry':
              await refundAgainLater(pool, payment.id, backoffMs(payment.refundAttempts, backoff));
              return;
          }
        } catch (error) {
          // A database error, or an answer the client does not expect (a 401: our key): not this refund's fault,
          // so it is asked again, and counted so that it is seen.
          metrics.refunded('error');
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
