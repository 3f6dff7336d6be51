/** A --replicas value that is not `ticket=N,payment=N,account=N`. */
export class ReplicasError extends Error {}

const REPLICATED = {
  ticket: 'ticket-service',
  payment: 'payment-service',
  account: 'account-service',
} as const;

/** `ticket=3,payment=2` as replicas per service. */
export function parseReplicas(
  raw: string | undefined,
): Partial<Record<(typeof REPLICATED)[keyof typeof REPLICATED], number>> {
  const out: Partial<Record<(typeof REPLICATED)[keyof typeof REPLICATED], number>> = {};
  if (raw === undefined || raw.trim() === '') return out;
  for (const part of raw.split(',')) {
    const [name, count] = part.split('=');
    const service = REPLICATED[name?.trim() as keyof typeof REPLICATED];
    const n = Number(count);
    if (service === undefined || !Number.isInteger(n) || n < 1 || n > 8)
      throw new ReplicasError(
        `--replicas takes ticket=N,payment=N,account=N with N from 1 to 8; "${part}" is not that`,
      );
    out[service] = n;
  }
  return out;
}
