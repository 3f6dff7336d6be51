import autocannon from 'autocannon';

export interface CannonResult {
  label: string;
  requestsPerSecond: number;
  total: number;
  p50Ms: number;
  p99Ms: number;
  statuses: Record<string, number>;
  errors: number;
  /** The answers by the value of the header `countHeader` names (absent: ''), when one was named. */
  headerValues?: Record<string, number>;
}

/**
 * One autocannon run. Each request goes out as a different fan (tokens taken in turn, the i-th request with
 * `tokens[i % tokens.length]` and `headersOf(i)`), since a real crowd is many users, not one user asking many times.
 */
export async function cannon(o: {
  label: string;
  url: string;
  method?: 'GET' | 'POST';
  path: (i: number) => string;
  tokens?: readonly string[];
  body?: string;
  headers?: Record<string, string>;
  /** Headers of the i-th request's own, such as the X-Queue-Ticket of the fan whose token it carries. */
  headersOf?: (i: number) => Record<string, string>;
  connections: number;
  seconds?: number;
  amount?: number;
  /** A response header to tally the answers by, such as the edge's X-Cache-Status. */
  countHeader?: string;
}): Promise<CannonResult> {
  let n = 0;
  let last = 0;
  const header = o.countHeader?.toLowerCase();
  const headerValues: Record<string, number> = {};
  // autocannon hands the headers as the server spelled their names.
  const tally = (headers: Record<string, unknown>) => {
    const name = Object.keys(headers).find((k) => k.toLowerCase() === header);
    const value = name === undefined ? '' : String(headers[name]);
    headerValues[value] = (headerValues[value] ?? 0) + 1;
  };
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
          const headers = { ...req.headers, ...o.headers, ...o.headersOf?.(i) } as Record<string, string>;
          if (o.tokens !== undefined) headers.authorization = `Bearer ${o.tokens[i % o.tokens.length]}`;
          if (o.body !== undefined) headers['content-type'] = 'application/json';
          return { ...req, path: o.path(i), headers, ...(o.body === undefined ? {} : { body: o.body }) };
        },
        ...(header === undefined
          ? {}
          : {
              onResponse: (_status: number, _body: string, _context: object, h: object | undefined) =>
                tally({ ...h }),
            }),
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
    ...(header === undefined ? {} : { headerValues }),
  };
}

export function cannonRow(r: CannonResult): string {
  const statuses = Object.entries(r.statuses)
    .map(([k, v]) => `${k}×${v}`)
    .join(' ');
  return `${r.label.padEnd(34)} ${r.requestsPerSecond.toFixed(0).padStart(8)} req/s  p50 ${r.p50Ms.toFixed(1).padStart(6)} ms  p99 ${r.p99Ms.toFixed(1).padStart(6)} ms  ${statuses}${r.errors ? `  errors ${r.errors}` : ''}`;
}

/**
 * Throws unless nearly every request of the run was answered 2xx (or 304): the rate of a run that mostly failed is
 * no figure to size anything by.
 */
export function mustHaveSucceeded(r: CannonResult, atLeast = 0.99): CannonResult {
  const ok = Object.entries(r.statuses)
    .filter(([code]) => code.startsWith('2') || code === '304')
    .reduce((n, [, count]) => n + count, 0);
  const share = ok / Math.max(1, r.total + r.errors);
  if (share < atLeast)
    throw new Error(
      `${r.label.trim()}: only ${(share * 100).toFixed(1)}% answered 2xx (${JSON.stringify(r.statuses)}, ${r.errors} errors)`,
    );
  return r;
}
