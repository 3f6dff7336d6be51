import { DECLINE_REASONS, type DeclineReason } from '@reservex/contracts';
import { z } from 'zod';

/** How the simulated gateway misbehaves. Changed at run time by PUT /api/admin/faults. */
export const faultProfileSchema = z
  .strictObject({
    failureRate: z.number().min(0).max(1),
    timeoutRate: z.number().min(0).max(1),
    latencyMs: z.strictObject({
      min: z.number().int().min(0).max(60_000),
      max: z.number().int().min(0).max(60_000),
    }),
  })
  .refine((p) => p.latencyMs.min <= p.latencyMs.max, {
    message: 'latencyMs.min must not exceed latencyMs.max',
    path: ['latencyMs'],
  })
  .refine((p) => p.failureRate + p.timeoutRate <= 1, {
    message: 'failureRate + timeoutRate must not exceed 1',
    path: ['failureRate'],
  });

export type FaultProfile = z.infer<typeof faultProfileSchema>;

export type GatewayOutcome =
  | { kind: 'captured'; latencyMs: number }
  | { kind: 'declined'; reason: DeclineReason; latencyMs: number }
  | { kind: 'timeout'; latencyMs: number };

/** Draws one charge's fate. `random` is injectable so the draw is testable and a scenario can be seeded. */
export function drawOutcome(
  profile: FaultProfile,
  timeoutMs: number,
  random: () => number = Math.random,
): GatewayOutcome {
  const roll = random();
  const latencyMs = Math.round(
    profile.latencyMs.min + random() * (profile.latencyMs.max - profile.latencyMs.min),
  );
  if (roll < profile.timeoutRate) return { kind: 'timeout', latencyMs: timeoutMs };
  if (roll < profile.timeoutRate + profile.failureRate) {
    const reason = DECLINE_REASONS[Math.floor(random() * DECLINE_REASONS.length)] ?? 'card-declined';
    return { kind: 'declined', reason, latencyMs };
  }
  return { kind: 'captured', latencyMs };
}
