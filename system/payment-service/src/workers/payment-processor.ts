import {
  BackgroundLoop,
  extractTraceContext,
  inSpan,
  type Logger,
  type Pool,
  type Tracer,
} from '@reservex/kit';
import type { ChargeOutcome } from '../domain/payment-saga.ts';
import { type ChargeResult, chargeKey, type Gateway } from '../gateway/gateway.ts';
import type { GatewayMetrics } from '../payment-metrics.ts';
import { claimProcessingPayments, extendLease, type Payment } from '../store/payments.ts';
import { settleCharge } from '../use-cases/settle-charge.ts';

export interface PaymentProcessorOptions {
  pool: Pool;
  gateway: Gateway;
  logger: Logger;
  tracer: Tracer;
  metrics: GatewayMetrics;
  relay: { wake(): void };
  /** Woken when a capture must be given back. */
  refunder: { wake(): void };
  concurrency: number;
  leaseSeconds: number;
  idleMs: number;
}

/**
 * Charges PROCESSING payments through the gateway, many at a time, outside any database transaction (a charge
 * can take seconds), then settles each in a transaction that also writes its saga message to the outbox.
 */
export class PaymentProcessor {
  readonly #options: PaymentProcessorOptions;
  readonly #loop: BackgroundLoop;
  readonly #tasks = new Set<Promise<void>>();

  constructor(options: PaymentProcessorOptions) {
    this.#options = options;
    this.#loop = new BackgroundLoop({
      name: 'payment processor',
      logger: options.logger,
      idleMs: options.idleMs,
      pass: () => this.#claimAndCharge(),
    });
  }

  start(): void {
    this.#loop.start();
  }

  wake(): void {
    this.#loop.wake();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
    // In-flight charges finish; anything cut short keeps its lease and is retried after it runs out.
    await Promise.allSettled(this.#tasks);
  }

  async #claimAndCharge(): Promise<'busy' | 'idle'> {
    const free = this.#options.concurrency - this.#tasks.size;
    if (free <= 0) return 'idle';
    const claimed = await claimProcessingPayments(this.#options.pool, free, this.#options.leaseSeconds);
    for (const payment of claimed) this.#launch(payment);
    return claimed.length === free ? 'busy' : 'idle';
  }

  #launch(payment: Payment): void {
    // The charge belongs to the booking's trace: its parent is the saga step that opened the payment.
    const task = inSpan(
      this.#options.tracer,
      'payment charge',
      {
        parent: extractTraceContext(payment.traceContext),
        attributes: { 'reservex.payment.id': payment.id, 'reservex.reservation.id': payment.reservationId },
      },
      () => this.#charge(payment),
    )
      .catch((error) =>
        this.#options.logger.error({ err: error, paymentId: payment.id }, 'charge failed; lease will expire'),
      )
      .finally(() => {
        this.#tasks.delete(task);
        this.wake();
      });
    this.#tasks.add(task);
  }

  async #charge(claimed: Payment): Promise<void> {
    const { gateway, pool, metrics, relay, refunder } = this.#options;
    // The reservation id is the idempotency key: a retried charge for the same reservation is never a second charge.
    const key = chargeKey(claimed.reservationId);
    let outcome: ChargeOutcome;
    if (claimed.holdExpiresAt.getTime() <= Date.now()) {
      // The seats are no longer held, so no new charge is made. But an earlier attempt may have charged and then
      // died before settling: the provider is asked first, and whatever it holds is settled.
      const known = await gateway.lookup(key);
      outcome = known.kind === 'none' ? { kind: 'not-attempted', reason: 'hold-expired' } : known;
      metrics.charged(known.kind === 'none' ? 'hold-expired' : `recovered-${known.kind}`, 0);
    } else {
      const started = performance.now();
      const result = await this.#chargeKeepingTheClaim(claimed, key);
      metrics.charged(
        result.kind === 'declined' ? result.reason : result.kind,
        (performance.now() - started) / 1000,
      );
      outcome = result.kind === 'timeout' ? { kind: 'declined', reason: 'gateway-timeout' } : result;
    }
    await settleCharge(pool, claimed.id, outcome, claimed.attempts);
    relay.wake();
    if (outcome.kind === 'captured') refunder.wake();
  }

  /** The claim is kept alive while the provider takes its time, so no other attempt charges meanwhile. */
  async #chargeKeepingTheClaim(claimed: Payment, key: string): Promise<ChargeResult> {
    const { pool, gateway, leaseSeconds, logger } = this.#options;
    const keepAlive = setInterval(
      () => {
        extendLease(pool, claimed.id, claimed.attempts, leaseSeconds).catch((error) =>
          logger.warn({ err: error, paymentId: claimed.id }, 'could not extend the lease'),
        );
      },
      Math.max(250, (leaseSeconds * 1000) / 3),
    );
    try {
      return await gateway.charge(key, claimed.amount);
    } finally {
      clearInterval(keepAlive);
    }
  }
}
