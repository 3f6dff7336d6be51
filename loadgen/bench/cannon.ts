import autocannon from 'autocannon';

export interface CannonResult {
  label: string;
  requestsPerSecond: number;
  total: number;
  p50Ms: number;
  p99Ms: number;
  statuses: Record<string, number>;
  errors: number;
}

/**
 * One autocannon run. Each request goes out as a different fan (tokens taken in turn), since a real crowd is
 * many users, not one user asking many times.
 */
export async function cannon(o: {
  label: string;
  url: string;
  method?: 'GET' | 'POST';
  path: (i: number) => string;
  tokens?: readonly string[];
  body?: string;
  headers?: Record<string, string>;
  connections: number;
  seconds?: number;
  amount?: number;
}): Promise<CannonResult> {
  let n = 0;
  let last = 0;
  const started = performance.now();
  // With a fixed amount, autocannon notices the end only on its next one-second tick, so its duration (and any
  // rate from it) is rounded up to whole seconds: 4,000 joins done in 1.1 s counted as 2 s. The rate here runs
  // from the start to the last answer.
  const instance = autocannon({
    url: o.url,
    connections: o.connections,
    ...(o.amount === undefined ? { duration: o.seconds ?? 10 } : { amount: o.amount }),
    requests: [
      {
        method: o.method ?? 'GET',
        setupRequest: (req) => {
          const i = n++;
          const headers = { ...req.headers, ...o.headers } as Record<string, string>;
          if (o.tokens !== undefined) headers.authorization = `Bearer ${o.tokens[i % o.tokens.length]}`;
          if (o.body !== undefined) headers['content-type'] = 'application/json';
          return { ...req, path: o.path(i), headers, ...(o.body === undefined ? {} : { body: o.body }) };
        },
      },
    ],
  }) as unknown as autocannon.Instance & PromiseLike<autocannon.Result>;
  instance.on('response', () => {
    last = performance.now();
  });
  const result = await instance;
  const statuses: Record<string, number> = {};
  for (const [code, s] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = s.count ?? 0;
  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    label: o.label,
    requestsPerSecond:
      total / (o.amount === undefined || last === 0 ? result.duration : (last - started) / 1000),
    total,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    statuses,
    errors: result.errors + result.timeouts,
  };
}

export function cannonRow(r: CannonResult): string {
  const statuses = Object.entries(r.statuses)
    .map(([k, v]) => `${k}×${v}`)
    .join(' ');
  return `${r.label.padEnd(34)} ${r.requestsPerSecond.toFixed(0).padStart(8)} req/s  p50 ${r.p50Ms.toFixed(1).padStart(6)} ms  p99 ${r.p99Ms.toFixed(1).padStart(6)} ms  ${statuses}${r.errors ? `  errors ${r.errors}` : ''}`;
}
