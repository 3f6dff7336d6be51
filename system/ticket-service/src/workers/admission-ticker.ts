import { BackgroundLoop, type Logger, type Pool, type ServiceMetrics } from '@reservex/kit';
import { Counter, Gauge, Histogram } from 'prom-client';
import { type Lottery, LotteryOrder } from '../domain/queue-lottery.ts';
import { type AdmissionProgress, nextRate, type QueueProgress } from '../domain/queue-view.ts';
import { queuesAroundNow } from '../store/queue-settings.ts';
import type { QueueStore, TickResult } from '../store/queue-store.ts';

type Listener = (eventId: string, progress: QueueProgress) => void;

export interface AdmissionTickerOptions {
  store: QueueStore;
  pool: Pool;
  logger: Logger;
  metrics: ServiceMetrics;
  tickMs: number;
  graceMs: number;
  slotMs: number;
  /** The event's lottery key, published by the step that seals its pre-queue. */
  lotteryKeyOf: (eventId: string) => string;
}

/**
 * Each ticket-service instance ticks every queue it knows about. The tick itself is one atomic Redis script
 * with time-based credit, so several instances ticking together admit at the configured rate, not a multiple.
 * Heartbeats seen by this instance go to Redis in one command per tick, and the new serving counter goes out
 * to every listener (the SSE streams): no Redis call per waiting user.
 */
export class AdmissionTicker implements AdmissionProgress {
  readonly #store: QueueStore;
  readonly #pool: Pool;
  readonly #logger: Logger;
  readonly #graceMs: number;
  readonly #slotMs: number;
  readonly #lotteryKeyOf: (eventId: string) => string;
  readonly #events = new Set<string>();
  readonly #progress = new Map<string, QueueProgress>();
  readonly #heartbeats = new Map<string, Map<number, { userId: string; expectMs: number }>>();
  readonly #listeners = new Set<Listener>();
  readonly #ticking: BackgroundLoop;
  readonly #refreshing: BackgroundLoop;
  readonly metrics: {
    admitted: Counter<'event'>;
    dropped: Counter<'event'>;
    queueLength: Gauge<'event'>;
    active: Gauge<'event'>;
    wait: Histogram<'event'>;
  };

  constructor(options: AdmissionTickerOptions) {
    this.#store = options.store;
    this.#pool = options.pool;
    this.#logger = options.logger;
    this.#graceMs = options.graceMs;
    this.#slotMs = options.slotMs;
    this.#lotteryKeyOf = options.lotteryKeyOf;
    this.#ticking = new BackgroundLoop({
      name: 'admission ticker',
      logger: options.logger,
      idleMs: options.tickMs,
      pass: async () => {
        await this.tickAll();
        return 'idle';
      },
    });
    this.#refreshing = new BackgroundLoop({
      name: 'queue list refresh',
      logger: options.logger,
      idleMs: 5000,
      pass: async () => {
        for (const id of await queuesAroundNow(this.#pool)) this.watch(id);
        return 'idle';
      },
    });
    // Every waiting-room series is per event: several on-sales at once stay apart.
    const perEvent = { labelNames: ['event'] as const, registers: [options.metrics.registry] };
    this.metrics = {
      admitted: new Counter({
        name: 'waiting_room_admitted_total',
        help: 'Users admitted from the waiting room',
        ...perEvent,
      }),
      dropped: new Counter({
        name: 'waiting_room_dropped_total',
        help: 'Waiting users dropped for not heart-beating',
        ...perEvent,
      }),
      queueLength: new Gauge({
        name: 'waiting_room_queue_length',
        help: 'Tickets issued and not yet served',
        ...perEvent,
      }),
      active: new Gauge({
        name: 'waiting_room_active_users',
        help: 'Admitted users holding a slot',
        ...perEvent,
      }),
      wait: new Histogram({
        name: 'waiting_room_wait_seconds',
        help: 'From joining the queue to being admitted',
        buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1200, 3600],
        ...perEvent,
      }),
    };
  }

  /**
   * Ticks every watched queue, and watches the events whose queue opens soon or opened lately (from PostgreSQL,
   * the source of the settings). Older queues are watched again as soon as anyone joins or asks for their place.
   */
  start(): void {
    this.#refreshing.start();
    this.#ticking.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.#ticking.stop(), this.#refreshing.stop()]);
  }

  watch(eventId: string): void {
    this.#events.add(eventId);
  }

  /** Someone holds an admission in a queue this instance ticks, as of its last steps: fans about to book. */
  get admitting(): boolean {
    for (const progress of this.#progress.values()) if (progress.active > 0) return true;
    return false;
  }

  /** The queues this instance ticks. */
  watching(): string[] {
    return [...this.#events];
  }

  onProgress(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  progress(eventId: string): QueueProgress | undefined {
    return this.#progress.get(eventId);
  }

  /**
   * Records that the fan holding a join number is still there, and in how many milliseconds they are next due (the
   * Retry-After they were told); sent to Redis with the next tick. The latest sighting wins.
   */
  seen(eventId: string, number: number, userId: string, expectMs = 0): void {
    let fans = this.#heartbeats.get(eventId);
    if (fans === undefined) {
      fans = new Map();
      this.#heartbeats.set(eventId, fans);
    }
    fans.set(number, { userId, expectMs });
  }

  async tickAll(): Promise<void> {
    for (const eventId of this.#events) {
      try {
        await this.tick(eventId);
      } catch (error) {
        this.#logger.error({ err: error, eventId }, 'admission tick failed');
      }
    }
  }

  async tick(eventId: string): Promise<TickResult> {
    const seen = this.#heartbeats.get(eventId);
    if (seen !== undefined && seen.size > 0) {
      this.#heartbeats.delete(eventId);
      await this.#store.heartbeat(eventId, seen);
    }
    const before = this.#progress.get(eventId);
    const r = await this.#store.tick(eventId, this.#graceMs, this.#slotMs, {
      order: before?.order,
      served: before?.served ?? 0,
      lotteryKey: this.#lotteryKeyOf(eventId),
    });
    if (r.admitted > 0) this.metrics.admitted.inc({ event: eventId }, r.admitted);
    if (r.dropped > 0) this.metrics.dropped.inc({ event: eventId }, r.dropped);
    this.metrics.queueLength.set({ event: eventId }, Math.max(0, r.lastNumber - r.served));
    this.metrics.active.set({ event: eventId }, r.active);
    const now = Date.now();
    const rate =
      before === undefined
        ? undefined
        : nextRate(before.rate, r.served - before.served, (now - before.at) / 1000);
    const progress: QueueProgress = {
      served: r.served,
      lastNumber: r.lastNumber,
      active: r.active,
      rate,
      at: now,
      paused: r.paused,
      ...(r.lottery === undefined ? {} : { lottery: r.lottery, order: orderOf(r.lottery, before?.order) }),
    };
    this.#progress.set(eventId, progress);
    for (const listener of this.#listeners) listener(eventId, progress);
    // A queue with nobody waiting and nobody inside costs a Redis round trip per tick for nothing.
    if (r.lastNumber > 0 && r.served >= r.lastNumber && r.active === 0) this.#events.delete(eventId);
    return r;
  }

  observeWait(eventId: string, seconds: number): void {
    this.metrics.wait.observe({ event: eventId }, seconds);
  }
}

/** The pre-queue's order, worked out once per instance: a sealed lottery never changes. */
function orderOf(lottery: Lottery, known: LotteryOrder | undefined): LotteryOrder {
  return known !== undefined && known.size === lottery.size ? known : new LotteryOrder(lottery);
}
