import type { PaymentFigures } from '../run/payment-figures.ts';
import type { Recorder } from '../run/recorder.ts';
import type { RunFacts } from '../run/run-facts.ts';
import type { Scenario } from '../scenario.ts';

/**
 * What a sale that collapsed under its own load leaves behind (docs/overload.md), whatever its invariants say:
 * paying fans without a booking while seats stayed unsold, and fans charged then refunded because the system was
 * slow.
 */
export interface CollapseFigures {
  /**
   * Fans who would have paid: confirmed, expired, refused for a deadline, and, as far as seats were left for them,
   * still queued at the end or turned away after admission.
   */
  payingFans: number;
  confirmed: number;
  /** confirmed / payingFans (1 when there were none). */
  fansServed: number;
  wastedCaptures: number;
  /** wastedCaptures / confirmed (0 when nothing was confirmed and nothing wasted). */
  wastedCaptureRatio: number;
}

export function collapseFigures(o: {
  recorder: Pick<Recorder, 'timedOutWaiting' | 'turnedAway' | 'confirmed' | 'expired'>;
  facts: RunFacts;
  payments: Pick<PaymentFigures, 'refusedHoldExpired' | 'wastedCaptures'> | undefined;
  /** Seats not sold by the end. */
  unsoldSeats: number;
}): CollapseFigures {
  const confirmed = o.facts.confirmed ?? o.recorder.confirmed;
  const expired = o.facts.expiredHolds ?? o.recorder.expired;
  const refused = o.payments?.refusedHoldExpired ?? 0;
  // A fan still queued at the end, or admitted and refused a booking for something other than a seat race, is
  // unserved only if a seat was left for them.
  const stillQueued = Math.min(
    o.recorder.timedOutWaiting + o.recorder.turnedAway,
    Math.max(0, o.unsoldSeats),
  );
  const payingFans = confirmed + expired + refused + stillQueued;
  const wasted = o.payments?.wastedCaptures ?? 0;
  return {
    payingFans,
    confirmed,
    fansServed: payingFans === 0 ? 1 : round3(confirmed / payingFans),
    wastedCaptures: wasted,
    wastedCaptureRatio: wasted === 0 ? 0 : round3(wasted / Math.max(1, confirmed)),
  };
}

/**
 * The limits that apply to a scenario, in every scenario: its own, else 95% of paying fans served and at most 1%
 * of captures wasted. A scenario whose faults make holds run out by design states its own bounds, and
 * docs/resilience.md says why (loadgen/test/scenarios.test.ts holds the two together).
 */
export function collapseLimits(s: Scenario): { minFansServed: number; maxWastedCaptureRatio: number } {
  return {
    minFansServed: s.thresholds.minFansServed ?? 0.95,
    maxWastedCaptureRatio: s.thresholds.maxWastedCaptureRatio ?? 0.01,
  };
}

/**
 * A scenario that injects faults into the stack or the provider, or changes the services' rules: it must state its
 * collapse bounds itself.
 */
export function injectsFaults(s: Scenario): boolean {
  return (
    s.faults.length > 0 ||
    Object.keys(s.serviceEnv).length > 0 ||
    s.payment.initial.timeoutRate > 0 ||
    s.payment.changes.length > 0
  );
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
