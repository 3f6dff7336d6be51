import {
  extractTraceContext,
  inSpan,
  type Logger,
  type Pool,
  type Tracer,
  withTransaction,
} from '@reservex/kit';
import type { ChargeResult, Gateway } from './gateway/simulated-gateway.ts';
import { publishCompleted, publishFailed, publishRefunded } from './messaging/payment-events.ts';
import { isCancelled } from './store/cancellations.ts';
import {
  claimProcessingPayments,
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
    if (claimed.holdExpiresAt.getTime() <= Date.now()) {
      // Queued too long: the seats are no longer held, so the charge would only be refunded.
      await settleCharge(this.#o.pool, claimed.id, { kind: 'not-attempted', reason: 'hold-expired' });
      this.#o.onOutcome('hold-expired', 0);
      this.#o.onCommitted();
      return;
    }
    const started = performance.now();
    // The reservation id is the idempotency key: a retried charge for the same reservation is never a second charge.
    const result = await this.#o.gateway.charge(`charge:${claimed.reservationId}`, claimed.amount);
    this.#o.onOutcome(
      result.kind === 'declined' ? result.reason : result.kind,
      (performance.now() - started) / 1000,
    );
    await settleCharge(this.#o.pool, claimed.id, result);
    this.#o.onCommitted();
  }
}

/**
 * Records what the gateway answered, with the saga event it causes, in one transaction. A capture for a
 * reservation that was cancelled meanwhile (a late payment) is refunded on the spot.
 */
export async function settleCharge(
  pool: Pool,
  paymentId: string,
  result: ChargeResult | { kind: 'not-attempted'; reason: 'hold-expired' },
): Promise<void> {
  await withTransaction(pool, async (tx) => {
    const payment = await lockPayment(tx, paymentId);
    if (payment?.status !== 'PROCESSING') return;
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
