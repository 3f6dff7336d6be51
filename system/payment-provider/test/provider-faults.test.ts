import assert from 'node:assert/strict';
import { faultChangeSchema, faultProfileSchema } from '@reservex/contracts';
import { drawChargeFate, drawRefundFate, inOutage } from '../src/domain/provider-faults.ts';

/** A seeded generator, so that shares can be checked without flakiness. */
function seeded(seed: number) {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

describe('the provider’s fault vocabulary', () => {
  const profile = faultProfileSchema.parse({
    failureRate: 0.2,
    timeoutRate: 0.1,
    timeoutAfterCaptureRate: 0.15,
    resetAfterCaptureRate: 0.05,
    errorAfterCaptureRate: 0.05,
    slowRate: 0.05,
    slowMs: 9000,
    latencyMs: { min: 10, max: 20 },
    refundTimeoutRate: 0.1,
    refundTimeoutAfterRate: 0.1,
  });

  it('draws each charge fate in its configured share (seeded, 20,000 draws)', () => {
    const random = seeded(42);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 20_000; i++) {
      const fate = drawChargeFate(profile, random);
      const name =
        fate.kind === 'captured'
          ? fate.answer !== 'sent'
            ? `captured-then-${fate.answer}`
            : fate.latencyMs === 9000
              ? 'slow'
              : 'captured'
          : fate.kind;
      counts[name] = (counts[name] ?? 0) + 1;
      if (fate.kind === 'declined') assert.ok(fate.latencyMs >= 10 && fate.latencyMs <= 20);
    }
    const share = (name: string) => (counts[name] ?? 0) / 20_000;
    const expected = {
      lost: 0.1,
      declined: 0.2,
      'captured-then-hang': 0.15,
      'captured-then-reset': 0.05,
      'captured-then-error': 0.05,
      slow: 0.05,
      captured: 0.4,
    };
    for (const [name, want] of Object.entries(expected))
      assert.ok(
        Math.abs(share(name) - want) < 0.015,
        `${name}: ${share(name)} vs ${want} (${JSON.stringify(counts)})`,
      );
  });

  it('draws refund fates in their shares', () => {
    const random = seeded(7);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 20_000; i++) {
      const fate = drawRefundFate(profile, random);
      counts[fate] = (counts[fate] ?? 0) + 1;
    }
    assert.ok(Math.abs((counts.lost ?? 0) / 20_000 - 0.1) < 0.015, JSON.stringify(counts));
    assert.ok(Math.abs((counts['refunded-then-hang'] ?? 0) / 20_000 - 0.1) < 0.015, JSON.stringify(counts));
  });

  it('refuses a profile whose charge fates add up to more than certainty, with the field named', () => {
    const parsed = faultProfileSchema.safeParse({
      failureRate: 0.6,
      timeoutAfterCaptureRate: 0.6,
      latencyMs: { min: 0, max: 1 },
    });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues[0]?.path, ['failureRate']);
  });

  it('keeps the old three-field profile valid: the rest defaults to no fault', () => {
    const parsed = faultProfileSchema.parse({
      failureRate: 0.1,
      timeoutRate: 0.05,
      latencyMs: { min: 0, max: 5 },
    });
    assert.equal(parsed.timeoutAfterCaptureRate, 0);
    assert.equal(parsed.outageUntil, null);
  });

  it('an outage is a length through the API, and ends on its own', () => {
    assert.deepEqual(faultChangeSchema.parse({ outageSeconds: 10 }), { outageSeconds: 10 });
    const until = new Date(Date.now() + 10_000).toISOString();
    const during = { ...profile, outageUntil: until };
    assert.equal(inOutage(during), true);
    assert.equal(inOutage(during, Date.now() + 11_000), false);
    assert.equal(inOutage(profile), false);
  });
});
