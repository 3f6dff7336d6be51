import { DECLINE_REASONS, type DeclineReason, type FaultProfile } from '@reservex/contracts';

export type ChargeFate =
  | { kind: 'lost' }
  | { kind: 'declined'; reason: DeclineReason; latencyMs: number }
  | { kind: 'captured'; latencyMs: number; answer: 'sent' | 'hang' | 'reset' | 'error' };

/** One charge's fate. `random` is injectable so the draw is testable and a scenario can be seeded. */
export function drawChargeFate(profile: FaultProfile, random: () => number = Math.random): ChargeFate {
  const roll = random();
  const latencyMs = Math.round(
    profile.latencyMs.min + random() * (profile.latencyMs.max - profile.latencyMs.min),
  );
  let edge = profile.timeoutRate;
  if (roll < edge) return { kind: 'lost' };
  edge += profile.failureRate;
  if (roll < edge) {
    const reason = DECLINE_REASONS[Math.floor(random() * DECLINE_REASONS.length)] ?? 'card-declined';
    return { kind: 'declined', reason, latencyMs };
  }
  const after: Array<[number, 'hang' | 'reset' | 'error']> = [
    [profile.timeoutAfterCaptureRate, 'hang'],
    [profile.resetAfterCaptureRate, 'reset'],
    [profile.errorAfterCaptureRate, 'error'],
  ];
  for (const [share, answer] of after) {
    edge += share;
    if (roll < edge) return { kind: 'captured', latencyMs, answer };
  }
  edge += profile.slowRate;
  if (roll < edge) return { kind: 'captured', latencyMs: profile.slowMs, answer: 'sent' };
  return { kind: 'captured', latencyMs, answer: 'sent' };
}

export type RefundFate = 'lost' | 'refunded-then-hang' | 'refunded';

export function drawRefundFate(profile: FaultProfile, random: () => number = Math.random): RefundFate {
  const roll = random();
  if (roll < profile.refundTimeoutRate) return 'lost';
  if (roll < profile.refundTimeoutRate + profile.refundTimeoutAfterRate) return 'refunded-then-hang';
  return 'refunded';
}

export function inOutage(profile: FaultProfile, now = Date.now()): boolean {
  return profile.outageUntil !== null && Date.parse(profile.outageUntil) > now;
}
