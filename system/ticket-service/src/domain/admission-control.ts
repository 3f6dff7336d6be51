/**
 * The admission controller's law (docs/overload.md): each period, the waiting room's outflow is set so that the
 * work inside the saga stays at what the saga finishes in a target time. Little's law: a backlog of B at a
 * throughput of X takes B / X to drain, so holding B at X·L keeps the time spent inside near L, whatever X turns out
 * to be. The operator's admission rate is the ceiling.
 */

/** What the controller reads each period. */
export interface SagaSignals {
  /** When the signals were read (ms). */
  at: number;
  /** Reservations still PENDING: booked, not yet paid or failed. */
  pending: number;
  /** Reservations of the event that ever left PENDING: a counter, so its growth is the saga's throughput. */
  finished: number;
  /**
   * Fans admitted who know it (they looked since) and have not booked yet: work already let in, seconds from the
   * saga. Admitted fans who have not looked yet are left out: one far back may look a minute later, and counting
   * them held the rate at the floor while the saga idled.
   */
  admittedWaiting: number;
  /** Age of the oldest PENDING reservation (ms). */
  oldestPendingMs: number;
}

/** What the controller remembers from one period to the next (kept in Redis, so any instance can take over). */
export interface ControllerState {
  at: number;
  finished: number;
  /** Reservations finished per second, smoothed. */
  throughput: number;
  /** Admissions per second, the controller's output. */
  rate: number;
}

export interface ControlSettings {
  /** The operator's admitPerSecond. */
  ceiling: number;
  /** The event's hold (ms): the time inside is kept well below it. */
  holdMs: number;
}

export type LimitedBy = 'ceiling' | 'backlog' | 'old-holds' | 'growth' | 'floor';

export interface ControlStep extends ControllerState {
  backlog: number;
  targetBacklog: number;
  targetSeconds: number;
  limitedBy: LimitedBy;
}

export const CONTROL = {
  /** Seconds over which a backlog away from its target is brought back: the loop's time constant. */
  tauSeconds: 2,
  /** Never below one admission a second: a stalled queue would look like a dead one. */
  minRate: 1,
  /** The backlog aimed at while nothing has finished yet, so a cold start admits at all. */
  minBacklog: 20,
  /**
   * While the backlog is under half its target, the rate grows by at least this factor per period: with nothing
   * finishing (a sale near its end, fans slow to book) the law alone would sit at minBacklog / tau.
   */
  idleGrowth: 1.5,
  /** At most doubling per period (plus minBacklog), so a cold start reaches a few hundred a second in seconds. */
  maxGrowth: 2,
  /** Weight of the newest throughput measurement. */
  smoothing: 0.5,
  /** The time inside aimed at: this share of the hold, and never more than maxTargetSeconds. */
  targetShareOfHold: 0.1,
  maxTargetSeconds: 10,
} as const;

/** The rate before the first step: what a cold start would admit. */
export const COLD_START_RATE = CONTROL.minBacklog / CONTROL.tauSeconds;

/** The time inside the saga the controller aims at, for a hold of `holdMs`. */
export function targetSeconds(holdMs: number): number {
  return Math.min(CONTROL.maxTargetSeconds, (holdMs / 1000) * CONTROL.targetShareOfHold);
}

/** One period of the law. With no previous state (a cold start) throughput is taken as zero. */
export function nextControl(
  prev: ControllerState | undefined,
  s: SagaSignals,
  k: ControlSettings,
): ControlStep {
  const dt = prev === undefined ? 0 : (s.at - prev.at) / 1000;
  let throughput = prev?.throughput ?? 0;
  if (prev !== undefined && dt > 0) {
    const measured = Math.max(0, s.finished - prev.finished) / dt;
    throughput += CONTROL.smoothing * (measured - throughput);
  }
  // Admissions cannot be taken back: a fan who knows of their turn books within seconds, so they count already.
  // Left out, a cold start ran to the ceiling before the first bookings arrived.
  const backlog = s.pending + s.admittedWaiting;
  const target = targetSeconds(k.holdMs);
  const targetBacklog = Math.max(CONTROL.minBacklog, throughput * target);
  let rate = throughput + (targetBacklog - backlog) / CONTROL.tauSeconds;
  let limitedBy: LimitedBy = 'backlog';
  if (prev !== undefined && backlog < targetBacklog / 2 && rate < prev.rate * CONTROL.idleGrowth)
    rate = prev.rate * CONTROL.idleGrowth;
  if (s.oldestPendingMs > k.holdMs / 2 && rate > throughput / 2) {
    // Bookings are ageing towards their hold: drain before anything else, whatever the backlog's size says.
    rate = throughput / 2;
    limitedBy = 'old-holds';
  }
  const growthCap = prev === undefined ? rate : prev.rate * CONTROL.maxGrowth + CONTROL.minBacklog;
  if (rate > growthCap) {
    rate = growthCap;
    limitedBy = 'growth';
  }
  if (rate > k.ceiling) {
    rate = k.ceiling;
    limitedBy = 'ceiling';
  }
  if (rate < CONTROL.minRate) {
    rate = CONTROL.minRate;
    limitedBy = 'floor';
  }
  return {
    at: s.at,
    finished: s.finished,
    throughput,
    rate,
    backlog,
    targetBacklog,
    targetSeconds: target,
    limitedBy,
  };
}
