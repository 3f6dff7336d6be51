/**
 * An open-model load: arrivals come at `rate` per second for `seconds`, whatever the system's latency, as fans do.
 * A closed loop (each client waiting for its answer before sending again) slows down with the system and hides
 * its queueing; here every arrival's latency counts from the moment it was due, so time spent waiting behind
 * the generator or the system is measured, not omitted.
 */
export async function openArrivals(
  rate: number,
  seconds: number,
  arrive: (index: number, dueAt: number) => Promise<void>,
): Promise<{ arrivals: number; lateMsMax: number }> {
  const total = Math.round(rate * seconds);
  const startedAt = Date.now();
  const inFlight: Promise<void>[] = [];
  let sent = 0;
  let lateMsMax = 0;
  while (sent < total) {
    const now = Date.now();
    const due = Math.min(total, Math.floor(((now - startedAt) / 1000) * rate) + 1);
    for (; sent < due; sent++) {
      const dueAt = startedAt + (sent / rate) * 1000;
      lateMsMax = Math.max(lateMsMax, now - dueAt);
      inFlight.push(arrive(sent, dueAt));
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(inFlight);
  return { arrivals: total, lateMsMax };
}
