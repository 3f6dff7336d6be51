import { BackgroundWorker, type Logger, type PassResult, type Pool } from '@reservex/kit';
import {
  backoffMs,
  chargeWindow,
  type OnProviderRecord,
  onProviderRecord,
  type ProviderRecord,
} from '../domain/payment-saga.ts';
import { chargeKey, type Gateway } from '../gateway/gateway.ts';
import type { GatewayMetrics } from '../payment-metrics.ts';
import { type ClaimedPayment, checkAgainLater, claimPaymentsInDoubt } from '../store/payments.ts';
import { chargeAgain, settleCharge } from '../use-cases/settle-charge.ts';
import { keepingTheClaim } from './claim-keeper.ts';
import { followUp, type Wakeable } from './follow-up.ts';

export interface ReconcilerOptions {
  pool: Pool;
  gateway: Gateway;
  logger: Logger;
  metrics: GatewayMetrics;
  relay: Wakeable;
  refunder: Wakeable;
  /** Woken when a charge the provider never saw is to be made again. */
  processor: Wakeable;
  leaseSeconds: number;
  idleMs: number;
  backoff: { baseMs: number; maxMs: number };
  /** How long before settle-by a key with no outcome is voided, so the void lands before the booking ends. */
  voidMarginMs: number;
  batch: number;
}

/**
 * Resolves payments in doubt: asks the provider what it holds under the charge key, with backoff and jitter,
 * until the outcome is known (docs/saga.md, "Payments in doubt"). A capture or a decline is settled and the saga
 * goes on; a key the provider never saw is charged again while the hold allows, and voided once it does not,
 * so that its outcome becomes definite: nothing can be captured under a voided key.
 */
export class Reconciler extends BackgroundWorker {
  readonly #options: ReconcilerOptions;

  constructor(options: ReconcilerOptions) {
    super({ name: 'reconciler', logger: options.logger, idleMs: options.idleMs });
    this.#options = options;
  }

  protected override async pass(): Promise<PassResult> {
    return (await this.checkDue()) === this.#options.batch ? 'busy' : 'idle';
  }

  /** One pass over the payments whose check is due; returns how many it claimed. */
  async checkDue(): Promise<number> {
    const { pool, batch, leaseSeconds, logger } = this.#options;
    const due = await claimPaymentsInDoubt(pool, batch, leaseSeconds);
    await Promise.all(
      due.map((payment) =>
        this.#check(payment).catch((error) =>
          logger.warn(
            { err: error, paymentId: payment.id },
            'reconciling failed; checked again when its lease runs out',
          ),
        ),
      ),
    );
    return due.length;
  }

  async #check(payment: ClaimedPayment): Promise<void> {
    const { pool, backoff } = this.#options;
    // A lookup and a void can each take the gateway's whole deadline, together longer than the lease: the claim is
    // kept alive meanwhile, so that another instance does not check (and void) the same key at the same time.
    const step = await keepingTheClaim(this.#options, payment, 'IN_DOUBT', () =>
      this.#askTheProvider(payment),
    );
    switch (step.kind) {
      case 'settle':
        followUp(await settleCharge(pool, payment.id, step.outcome, payment.attempts), {
          ...this.#options,
          reconciler: this,
        });
        return;
      case 'charge-again':
        if (await chargeAgain(pool, payment.id, payment.attempts)) this.#options.processor.wake();
        return;
      case 'wait':
        await checkAgainLater(pool, payment.id, payment.attempts, backoffMs(payment.checks, backoff));
        return;
    }
  }

  /** What the provider holds under the charge key, and the step it calls for: voided first if the window says so. */
  async #askTheProvider(payment: ClaimedPayment): Promise<OnProviderRecord> {
    const { gateway, metrics, voidMarginMs } = this.#options;
    const key = chargeKey(payment.reservationId);
    const window = chargeWindow(payment, Date.now(), voidMarginMs);
    const looked = await gateway.lookup(key);
    metrics.checked(`lookup-${looked.kind}`);
    const step = onProviderRecord(asRecord(looked), window);
    if (step.kind !== 'void') return step;
    const voided = await gateway.void(key);
    metrics.checked(`void-${voided.kind}`);
    const after = onProviderRecord(asRecord(voided), window);
    // A void answers with an outcome or nothing known; it never asks to void again.
    return after.kind === 'void' ? { kind: 'wait' } : after;
  }
}

const asRecord = (answer: { kind: string }): ProviderRecord =>
  answer.kind === 'unknown' ? { kind: 'unknown' } : (answer as ProviderRecord);
