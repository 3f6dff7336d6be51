import type { Targets } from '@reservex/stack';

// The runner's own calls to the provider go around the fans' HTTP client, so they never count as fans' answers.

/**
 * Changes the payment provider's behaviour, at the provider and as its merchant: a fault profile, or
 * `{ outageSeconds }`. payment-service never sees the change, only its effects, as with a real acquirer.
 */
export async function setProviderFaults(targets: Targets, change: unknown): Promise<void> {
  const res = await fetch(`${targets.provider}/v1/faults`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${targets.providerApiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(change),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 200)
    throw new Error(`setting the provider's faults failed with ${res.status}: ${await res.text()}`);
}

/** The status a lookup gets from the provider now: evidence that an outage took effect. */
export async function probeProvider(targets: Targets): Promise<number> {
  try {
    const res = await fetch(`${targets.provider}/v1/charges/probe`, {
      headers: { authorization: `Bearer ${targets.providerApiKey}` },
      signal: AbortSignal.timeout(5000),
    });
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}
