import {
  extractTraceContext,
  inSpan,
  type Logger,
  type Pool,
  type Tracer,
  withTransaction,
} from '@reservex/kit';
import type { ChargeResult, Gateway, LookupResult } from './gateway/simulated-gateway.ts';
import { publishCompleted, publishFailed, publishRefunded } from './messaging/payment-events.ts';
import { isCancelled } from './store/cancellations.ts';
import {
  claimProcessingPayments,
  extendLease,
  lockPayment,
  type Payment,
  recordRefundInLedger,
  transitionPayment,
} from './store/payments.ts';

export interface ProcessorOptions {
  pool: Pool;
  gateway: Gateway;
  logger: Logger;
  tracer: Tracer;
  concurrency: number;
  leaseSeconds: number;
  idleMs: number;
  onOutcome: (outcome: string, seconds: number) => void;
  onCommitted: () => void;
}

/**
 * Charges PROCESSING payments through the gateway, many at a time, outside any database transaction (a charge
 * can take seconds), then settles each in a transaction that also writes its saga event to the outbox.
 */
export class PaymentProcessor {
  readonly #o: ProcessorOptions;
  #running = false;
  #inFlight = 0;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  readonly #tasks = new Set<Promise<void>>();

  constructor(options: ProcessorOptions) {
    this.#o = options;
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  wake(): void {
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.wake();
    await this.#loop;
    // In-flight charges finish; anything cut short keeps its lease and is retried after it runs out.
    await Promise.allSettled(this.#tasks);
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const free = this.#o.concurrency - this.#inFlight;
      let claimed: Payment[] = [];
      if (free > 0) {
        try {
          claimed = await claimProcessingPayments(this.#o.pool, free, this.#o.leaseSeconds);
        } catch (error) {
          this.#o.logger.error({ err: error }, 'could not claim payments');
        }
      }
      for (const payment of claimed) this.#launch(payment);
      if (claimed.length === 0 || this.#inFlight >= this.#o.concurrency) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#o.idleMs);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = undefined;
      }
    }
  }

  #launch(payment: Payment): void {
    this.#inFlight++;
    // The charge belongs to the booking's trace: its parent is the saga step that opened the payment.
    const task = inSpan(
      this.#o.tracer,
      'payment charge',
      {
        parent: extractTraceContext(payment.traceContext),
        attributes: { 'reservex.payment.id': payment.id, 'reservex.reservation.id': payment.reservationId },
      },
      () => this.#charge(payment),
    )
      .catch((error) =>
        this.#o.logger.error({ err: error, paymentId: payment.id }, 'charge failed; lease will expire'),
      )
      .finally(() => {
        this.#inFlight--;
        this.#tasks.delete(task);
        this.wake();
      });
    this.#tasks.add(task);
  }

  async #charge(claimed: Payment): Promise<void> {
    // The reservation id is the idempotency key: a retried charge for the same reservation is never a second charge.
    const key = `charge:${claimed.reservationId}`;
    if (claimed.holdExpiresAt.getTime() <= Date.now()) {
      // The seats are no longer held, so no new charge is made. But an earlier attempt may have charged and then
      // died before settling: the provider is asked first, and whatever it holds is settled.
      const known = await this.#o.gateway.lookup(key);
      const result: SettleResult =
        known.kind === 'none' ? { kind: 'not-attempted', reason: 'hold-expired' } : known;
      await settleCharge(this.#o.pool, claimed.id, result, claimed.attempts);
      this.#o.onOutcome(known.kind === 'none' ? 'hold-expired' : `recovered-${known.kind}`, 0);
      this.#o.onCommitted();
      return;
    }
    const started = performance.now();
    // The claim is kept alive while the provider takes its time, so no other attempt charges meanwhile.
    const keepAlive = setInterval(
      () => {
        extendLease(this.#o.pool, claimed.id, claimed.attempts, this.#o.leaseSeconds).catch((error) =>
          this.#o.logger.warn({ err: error, paymentId: claimed.id }, 'could not extend the lease'),
        );
      },
      Math.max(250, (this.#o.leaseSeconds * 1000) / 3),
    );
    let result: ChargeResult;
    try {
      result = await this.#o.gateway.charge(key, claimed.amount);
    } finally {
      clearInterval(keepAlive);
    }
    this.#o.onOutcome(
      result.kind === 'declined' ? result.reason : result.kind,
      (performance.now() - started) / 1000,
    );
    await settleCharge(this.#o.pool, claimed.id, result, claimed.attempts);
    this.#o.onCommitted();
  }
}

type SettleResult =
  | ChargeResult
  | Exclude<LookupResult, { kind: 'none' }>
  | { kind: 'not-attempted'; reason: 'hold-expired' };

/**
 * Records what the gateway answered, with the saga event it causes, in one transaction. A capture for a
 * reservation that was cancelled meanwhile (a late payment) is refunded on the spot. Only the attempt that holds
 * the claim settles a PROCESSING payment; any attempt's capture that finds the payment already FAILED is
 * refunded, because the money moved whatever the record says.
 */
export async function settleCharge(
  pool: Pool,
  paymentId: string,
  result: SettleResult,
  attempt: number,
): Promise<void> {
  await withTransaction(pool, async (tx) => {
    const payment = await lockPayment(tx, paymentId);
    if (payment === undefined) return;
    if (payment.status === 'FAILED' && result.kind === 'captured') {
      await recordRefundInLedger(tx, payment);
      await transitionPayment(tx, payment, 'refund-late-capture');
      await publishRefunded(tx, payment);
      return;
    }
    // Settled already, or another attempt holds the claim now: it asks the provider with the same key and gets
    // this same answer, so nothing is lost by leaving it to that attempt.
    if (payment.status !== 'PROCESSING' || payment.attempts !== attempt) return;
    const cancelled = await isCancelled(tx, payment.reservationId);
    if (result.kind === 'captured' && cancelled) {
      await recordRefundInLedger(tx, payment);
      await transitionPayment(tx, payment, 'capture-and-refund');
      await publishRefunded(tx, payment);
    } else if (result.kind === 'captured') {
      await transitionPayment(tx, payment, 'capture');
      await publishCompleted(tx, payment);
    } else {
      const reason = result.kind === 'timeout' ? 'gateway-timeout' : result.reason;
      await transitionPayment(tx, payment, 'fail', reason);
      await publishFailed(tx, payment, reason);
    }
  });
}
