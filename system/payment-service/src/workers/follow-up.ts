import type { GatewayMetrics } from '../payment-metrics.ts';
import type { Settled } from '../use-cases/settle-charge.ts';

export interface Wakeable {
  wake(): void;
}

/** After a settlement: the workers it gave work to are woken, and a resolved doubt is timed. */
export function followUp(
  settled: Settled | undefined,
  deps: { relay: Wakeable; refunder: Wakeable; reconciler: Wakeable; metrics: GatewayMetrics },
): void {
  if (settled === undefined) return;
  deps.relay.wake();
  if (settled.to === 'REFUNDING') deps.refunder.wake();
  if (settled.to === 'IN_DOUBT') deps.reconciler.wake();
  // A payment that was ever in doubt (charged again after a lookup found nothing, perhaps) is resolved once
  // its outcome is known, whichever worker learnt it.
  const open = (s: string) => s === 'PROCESSING' || s === 'IN_DOUBT';
  if (settled.inDoubtSince !== null && open(settled.from) && !open(settled.to))
    deps.metrics.resolved(settled.to.toLowerCase(), (Date.now() - settled.inDoubtSince.getTime()) / 1000);
}
