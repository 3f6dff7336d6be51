// bench:queue's last step: how many open SSE streams the ticket-service processes hold, and the memory each costs.
import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BenchStack, log } from './bench-stack.ts';

/** Streams one holder process opens: a process may hold only as many sockets as it may open descriptors. */
const PER_HOLDER = 8000;

interface SseOutcome {
  opened: number;
  alive: number;
  failures: Record<string, number>;
}

type Gauges = Awaited<ReturnType<typeof serviceGauges>>;

async function serviceGauges(ticketUrl: string) {
  const text = await (await fetch(`${ticketUrl}/metrics`)).text();
  const gauge = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    openFds: gauge('process_open_fds'),
    maxFds: gauge('process_max_fds'),
    rssBytes: gauge('process_resident_memory_bytes'),
  };
}

function sumGauges(gauges: readonly Gauges[]): Gauges {
  return {
    rssBytes: gauges.reduce((n, g) => n + g.rssBytes, 0),
    openFds: gauges.reduce((n, g) => n + g.openFds, 0),
    maxFds: gauges.reduce((n, g) => n + g.maxFds, 0),
  };
}

async function holdStreams(
  /** Streams to open on each ticket-service process, by its URL. */
  plan: ReadonlyArray<{ url: string; count: number }>,
  eventId: string,
  tokens: readonly string[],
): Promise<{ outcome: SseOutcome; release: () => void }> {
  const jobs = plan.flatMap(({ url, count }) =>
    Array.from({ length: Math.ceil(count / PER_HOLDER) }, (_, k) => ({
      url: new URL(url),
      count: Math.min(PER_HOLDER, count - k * PER_HOLDER),
    })),
  );
  const holders = jobs.map((job, k) => {
    const child = fork(resolve(import.meta.dirname, 'sse-holder.ts'), { stdio: 'inherit' });
    const result = new Promise<SseOutcome>((r) => child.once('message', (m) => r(m as SseOutcome)));
    child.send({
      host: job.url.hostname,
      port: Number(job.url.port),
      localAddress: `127.0.0.${10 + k}`,
      path: `/api/events/${eventId}/queue/stream`,
      tokens,
      count: job.count,
      concurrency: 100,
    });
    return { child, result };
  });
  const outcomes = await Promise.all(holders.map((h) => h.result));
  const failures: Record<string, number> = {};
  for (const o of outcomes)
    for (const [k, v] of Object.entries(o.failures)) failures[k] = (failures[k] ?? 0) + v;
  return {
    outcome: {
      opened: outcomes.reduce((n, o) => n + o.opened, 0),
      alive: outcomes.reduce((n, o) => n + o.alive, 0),
      failures,
    },
    release: () => {
      for (const h of holders) h.child.disconnect();
    },
  };
}

/**
 * Opens as many SSE streams as the processes' descriptor limits leave room for, up to `target`, on the queue of
 * `eventId` (whose fans `tokens` are), spread over the ticket-service replicas (BENCH_TICKET_REPLICAS), and prints
 * what they held and what it cost them in memory.
 */
export async function sseCapacity(stack: BenchStack, eventId: string, target: number): Promise<void> {
  const processes = stack.ticketProcesses;
  const befores = await Promise.all(processes.map(serviceGauges));
  const rooms = befores.map((b) => Math.max(0, b.maxFds - b.openFds - 256));
  const planned = Math.min(
    target,
    rooms.reduce((a, b) => a + b, 0),
  );
  const plan = processes.map((url, i) => ({
    url,
    count: Math.min(rooms[i]!, Math.ceil(planned / processes.length)),
  }));
  const before = sumGauges(befores);
  log(
    `holding ${planned} SSE streams on ${processes.length} ticket-service process(es) (${plan.map((p) => p.count).join(' + ')}; each may open ${befores[0]?.maxFds} descriptors)`,
  );
  const held = await holdStreams(plan, eventId, stack.tokens);
  await sleep(3000);
  const peaks = await Promise.all(processes.map(serviceGauges));
  const peak = sumGauges(peaks);
  const probeStart = performance.now();
  const probe = await stack.http.get(`${stack.targets.ticket}/api/events/${eventId}/queue/me`, {
    token: stack.tokens[0],
  });
  const probeMs = performance.now() - probeStart;
  held.release();
  const perConnection = (peak.rssBytes - before.rssBytes) / Math.max(1, held.outcome.alive);
  console.log(`\nopen SSE connections on ${processes.length} ticket-service process(es)`);
  console.log(
    `  held ${held.outcome.alive} of ${target}; failures ${JSON.stringify(held.outcome.failures)}; a position read meanwhile answered ${probe.status} in ${probeMs.toFixed(0)} ms`,
  );
  console.log(
    `  memory, summed over the processes: ${(before.rssBytes / 2 ** 20).toFixed(0)} → ${(peak.rssBytes / 2 ** 20).toFixed(0)} MiB (${peaks.map((g) => (g.rssBytes / 2 ** 20).toFixed(0)).join(' + ')}), ${(perConnection / 1024).toFixed(1)} KiB per stream; 50,000 would need about ${((before.rssBytes + perConnection * 50_000) / 2 ** 20).toFixed(0)} MiB`,
  );
  if (planned < target)
    console.log(
      `  limit reached: the process may open ${before.maxFds} file descriptors (RLIMIT_NOFILE). Raise it (ulimit -n ${target + 2000} or LimitNOFILE in systemd) for ${target}; here the hard limit cannot be raised without CAP_SYS_RESOURCE.`,
    );
}
