import {
  BackgroundWorker,
  extractTraceContext,
  inSpan,
  type Logger,
  type PassResult,
  type Pool,
  type Tracer,
} from '@reservex/kit';
import type { ChargeOutcome } from '../domain/payment-saga.ts';
import { chargeKey, type Gateway } from '../gateway/gateway.ts';
import type { GatewayMetrics } from '../payment-metrics.ts';
import { type ClaimedPayment, claimProcessingPayments } from '../store/payments.ts';
import { settleCharge } from '../use-cases/settle-charge.ts';
import { keepingTheClaim } from './claim-keeper.ts';
import { followUp, type Wakeable } from './follow-up.ts';

export interface PaymentProcessorOptions {
  pool: Pool;
  gateway: Gateway;
  logger: Logger;
  tracer: Tracer;
  metrics: GatewayMetrics;
  relay: Wakeable;
  /** Woken when a capture must be given back. */
  refunder: Wakeable;
  /** Woken when a charge's answer was lost. */
  reconciler: Wakeable;
  concurrency: number;
  leaseSeconds: number;
  idleMs: number;
}

/**
 * Charges PROCESSING payments through the provider, many at a time, outside any database transaction (a charge
 * can take seconds), then settles each in a transaction that also writes its saga message to the outbox. An
 * answer that never came, or came as a 5xx, settles the payment IN_DOUBT: never FAILED on a guess.
 */
export class PaymentProcessor extends BackgroundWorker {
  readonly #options: PaymentProcessorOptions;
  readonly #tasks = new Set<Promise<void>>();

  constructor(options: PaymentProcessorOptions) {
    super({ name: 'payment processor', logger: options.logger, idleMs: options.idleMs });
    this.#options = options;
  }

  override async stop(): Promise<void> {
    await super.stop();
    // In-flight charges finish; anything cut short keeps its lease and is retried after it runs out.
    await Promise.allSettled(this.#tasks);
  }

  /** One pass that waits for its charges to settle: for tools and tests that step the saga by hand. */
  async chargeDue(limit = this.#options.concurrency): Promise<number> {
    const claimed = await claimProcessingPayments(this.#options.pool, limit, this.#options.leaseSeconds);
    await Promise.all(claimed.map((payment) => this.#charge(payment)));
    return claimed.length;
  }

  /** Claims as many PROCESSING payments as there are free slots, and charges them without waiting. */
  protected override async pass(): Promise<PassResult> {
    const free = this.#options.concurrency - this.#tasks.size;
    // While most slots are busy, a claim waits for a quarter of them to free up: one claim statement for many
    // payments at saturation, not one per finished charge. Below that load there is always room, so no payment waits.
    if (free <= 0 || (free < this.#options.concurrency / 4 && this.#tasks.size > 0)) return 'idle';
    const claimed = await claimProcessingPayments(this.#options.pool, free, this.#options.leaseSeconds);
    for (const payment of claimed) this.#launch(payment);
    return claimed.length === free ? 'busy' : 'idle';
  }

  #launch(payment: ClaimedPayment): void {
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

  async #charge(claimed: ClaimedPayment): Promise<void> {
    const { pool, metrics } = this.#options;
    // The reservation id is the idempotency key: a retried charge for the same reservation is never a second charge.
    const key = chargeKey(claimed.reservationId);
    let outcome: ChargeOutcome;
    if (claimed.cancelled || claimed.holdExpiresAt.getTime() <= Date.now()) {
      // No new charge may start (docs/saga.md, the hold rule). On the first claim nothing was ever sent under the
      // key; after that, an earlier attempt may have charged and died before settling, so the payment is in
      // doubt and the reconciler asks the provider (and voids the key if it holds nothing).
      outcome =
        claimed.attempts === 1
          ? { kind: 'not-attempted', reason: claimed.cancelled ? 'reservation-cancelled' : 'hold-expired' }
          : { kind: 'unknown' };
      metrics.charged(outcome.kind === 'unknown' ? 'unknown-earlier-attempt' : outcome.reason, 0);
    } else {
      const started = performance.now();
      // The claim is kept alive while the provider takes its time, so no other attempt charges meanwhile.
      const answer = await keepingTheClaim(this.#options, claimed, 'PROCESSING', () =>
        this.#options.gateway.charge(key, claimed.amount, claimed.currency),
      );
      metrics.charged(
        answer.kind === 'declined'
          ? answer.reason
          : answer.kind === 'unknown'
            ? `unknown-${answer.why}`
            : answer.kind,
        (performance.now() - started) / 1000,
      );
      outcome = answer.kind === 'unknown' ? { kind: 'unknown' } : answer;
    }
    followUp(await settleCharge(pool, claimed.id, outcome, claimed.attempts), this.#options);
  }
}
