import { randomUUID } from 'node:crypto';
import {
  BackgroundWorker,
  type Logger,
  type PassResult,
  type Pool,
  type ServiceMetrics,
} from '@reservex/kit';
import { Gauge } from 'prom-client';
import { type ControlStep, nextControl } from '../domain/admission-control.ts';
import { sagaBacklogOf } from '../store/queue-settings.ts';
import type { QueueStore } from '../store/queue-store.ts';

export interface AdmissionControllerOptions {
  store: QueueStore;
  pool: Pool;
  logger: Logger;
  metrics: ServiceMetrics;
  periodMs: number;
  /** The queues to control: the ticker's. */
  queues: { watching(): string[] };
}

type Figure = 'rate' | 'ceiling' | 'throughput' | 'backlog' | 'target_backlog' | 'oldest_pending_seconds';

/**
 * Steps each open queue's admission controller once a period (docs/overload.md): reads the saga's backlog from
 * PostgreSQL and the admitted fans who know it from Redis, applies the law, and hands the rate to the admission
 * script through Redis. Its memory is in Redis too, so with several instances whichever takes the period's turn
 * continues where the last left off.
 */
export class AdmissionController extends BackgroundWorker {
  readonly #options: AdmissionControllerOptions;
  readonly #instance = randomUUID();
  readonly #gauges: Record<Figure, Gauge<'event'>>;

  constructor(options: AdmissionControllerOptions) {
    super({ name: 'admission controller', logger: options.logger, idleMs: options.periodMs });
    this.#options = options;
    const registers = [options.metrics.registry];
    const gauge = (name: string, help: string) =>
      new Gauge({ name: `admission_control_${name}`, help, labelNames: ['event'] as const, registers });
    this.#gauges = {
      rate: gauge('rate', "Admissions per second the controller allows (under the operator's ceiling)"),
      ceiling: gauge('ceiling', "The operator's admitPerSecond"),
      throughput: gauge('throughput', 'Reservations the saga finished per second, smoothed'),
      backlog: gauge(
        'backlog',
        'PENDING reservations plus admitted fans who know it and have not booked yet',
      ),
      target_backlog: gauge(
        'target_backlog',
        'The backlog the controller aims at (throughput × target time)',
      ),
      oldest_pending_seconds: gauge('oldest_pending_seconds', 'Age of the oldest PENDING reservation'),
    };
  }

  protected override async pass(): Promise<PassResult> {
    await this.stepAll();
    return 'idle';
  }

  async stepAll(): Promise<void> {
    for (const eventId of this.#options.queues.watching()) {
      try {
        await this.step(eventId);
      } catch (error) {
        this.#options.logger.warn({ err: error, eventId }, 'admission control step failed');
      }
    }
  }

  /** One period for one queue; undefined when it is not this instance's turn, or the queue is not admitting. */
  async step(eventId: string): Promise<ControlStep | undefined> {
    const { store, pool, periodMs } = this.#options;
    const control = await store.control(eventId);
    if (control.mode === 'off' || !control.running) return undefined;
    if (!(await store.claimControl(eventId, this.#instance, periodMs))) return undefined;
    const backlog = await sagaBacklogOf(pool, eventId);
    if (backlog === undefined) return undefined;
    const step = nextControl(
      control.last,
      {
        at: Date.now(),
        pending: backlog.pending,
        finished: backlog.finished,
        admittedWaiting: control.acknowledged,
        oldestPendingMs: backlog.oldestPendingMs,
      },
      { ceiling: control.ceiling, holdMs: backlog.holdMs },
    );
    await store.saveControl(eventId, {
      ...step,
      ceiling: control.ceiling,
      oldestPendingMs: backlog.oldestPendingMs,
    });
    const g = this.#gauges;
    const event = { event: eventId };
    g.rate.set(event, step.rate);
    g.ceiling.set(event, control.ceiling);
    g.throughput.set(event, step.throughput);
    g.backlog.set(event, step.backlog);
    g.target_backlog.set(event, step.targetBacklog);
    g.oldest_pending_seconds.set(event, backlog.oldestPendingMs / 1000);
    return step;
  }
}
