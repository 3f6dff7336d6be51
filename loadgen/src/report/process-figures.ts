import type { ProcessSample } from '../run/process-sampler.ts';

/** Each service's CPU over the sale, from its processes' own counters, and the timeline behind the figures. */
export interface ProcessFigures {
  intervalSeconds: number;
  services: Record<
    string,
    { replicas: number; meanCores: number; peakCores: number; peakAtSecond: number; cpuSeconds: number }
  >;
  timeline: Array<{
    /** Seconds since the run started, at the window's end. */
    atSecond: number;
    cores: Record<string, number>;
    joins: number;
    arrived: number;
    waiting: number;
    redisCommands: number | null;
  }>;
}

/** What the waiting crowd cost, per fan, where it could cost something (docs/waiting-room.md). */
export interface WaitingRoomFigures {
  fansArrived: number;
  joins: number;
  /** Every answer ticket-service gave over the run, by route template: the work no waiting-room figure names. */
  requestsByRoute: Record<string, number>;
  /**
   * ticket-service's access-token checks: signatures verified, and tokens remembered from an earlier check. Each
   * process remembers its own, so a fan reaching several replicas has their signature checked on each.
   */
  tokenChecks: { signature: number; remembered: number };
  far: { fanMinutes: number; originRequests: number; perFanMinute: number | null };
  near: { fanMinutes: number; originRequests: number; perFanMinute: number | null };
  redis: {
    /** Commands that exist because fans wait: presence, place reads, the admission step, the shared status. */
    waitingCommands: number;
    waitingFanSeconds: number;
    perWaitingFanSecond: number | null;
    perJoin: number | null;
    byPurpose: Record<string, number>;
    /** Redis's own count over the same stretch, every client's: the purposes should account for nearly all of it. */
    totalProcessed: number | null;
  };
  edge: { requests: number; hits: number; hitRatio: number | null };
  ticketServiceCores: {
    /** The median over the windows of steady waiting (see `steadyWindows`); null when the run had none. */
    steadyWaiting: number | null;
    steadyWindows: number;
    peak: number;
    peakAtSecond: number;
  };
  generator: { peakHeapBytes: number; heapBytesPerFan: number | null; peakFansInFlight: number };
}

/** The waiting room's routes at ticket-service, as its metrics name them. */
export const QUEUE_ROUTES = {
  join: '/api/events/:id/queue',
  status: '/api/events/:id/queue/status',
  me: '/api/events/:id/queue/me',
  stream: '/api/events/:id/queue/stream',
} as const;

/**
 * Commands that serve fans who wait, as against joins, admissions spent at booking, and the operator's changes: what
 * a waiting fan costs Redis each second is these over the fans (here, and in bench:queue).
 */
export const WAITING_PURPOSES = ['presence', 'place', 'tick', 'status'] as const;
const waiting = new Set<string>(WAITING_PURPOSES);

/** A counter's growth between two samples; a process that restarted counts again from 0. */
const grown = (before: number | undefined, after: number | undefined) =>
  after === undefined ? 0 : before === undefined || after < before ? after : after - before;

/** Each counter's growth between two samples, by its label. */
const grownEach = (before: Record<string, number> | undefined, after: Record<string, number> | undefined) =>
  Object.fromEntries(Object.keys(after ?? {}).map((k) => [k, grown(before?.[k], after?.[k])]));

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.floor((s.length - 1) / 2)]!;
};

/** Samples in which a process did not answer are left out: the windows around them are measured as one. */
export function processFigures(taken: readonly ProcessSample[], startedAt: number, intervalSeconds: number) {
  const samples = taken.filter((s) => s.complete);
  const timeline: ProcessFigures['timeline'] = [];
  const services: ProcessFigures['services'] = {};
  for (let i = 1; i < samples.length; i++) {
    const [a, b] = [samples[i - 1]!, samples[i]!];
    const seconds = Math.max(0.001, (b.at - a.at) / 1000);
    const cores: Record<string, number> = {};
    for (const service of Object.keys(b.cpuSeconds))
      cores[service] = round(grown(a.cpuSeconds[service], b.cpuSeconds[service]) / seconds);
    timeline.push({
      atSecond: Math.round((b.at - startedAt) / 1000),
      cores,
      joins: grown(a.ticketRoutes[QUEUE_ROUTES.join], b.ticketRoutes[QUEUE_ROUTES.join]),
      arrived: b.arrived - a.arrived,
      waiting: b.waiting,
      redisCommands:
        a.redisCommands === undefined || b.redisCommands === undefined
          ? null
          : grown(a.redisCommands, b.redisCommands),
    });
  }
  const first = samples[0];
  const last = samples.at(-1);
  const wall = first === undefined || last === undefined ? 0 : (last.at - first.at) / 1000;
  for (const service of Object.keys(last?.cpuSeconds ?? {})) {
    const cpuSeconds = timeline.reduce(
      (n, w, i) => n + (w.cores[service] ?? 0) * windowSeconds(samples, i),
      0,
    );
    let peak = { cores: 0, at: 0 };
    for (const w of timeline)
      if ((w.cores[service] ?? 0) > peak.cores) peak = { cores: w.cores[service]!, at: w.atSecond };
    services[service] = {
      replicas: last?.processes[service] ?? 0,
      meanCores: wall > 0 ? round(cpuSeconds / wall) : 0,
      peakCores: peak.cores,
      peakAtSecond: peak.at,
      cpuSeconds: round(cpuSeconds, 1),
    };
  }
  return { intervalSeconds, services, timeline } satisfies ProcessFigures;
}

function windowSeconds(samples: readonly ProcessSample[], i: number): number {
  return (samples[i + 1]!.at - samples[i]!.at) / 1000;
}

/**
 * The waiting room's figures. Far and near fan-time come from the fans' own schedules (each look says how long the
 * fan now waits before the next); the origin's requests and Redis's commands from the servers' own counters.
 * Steady waiting: the windows in which at least a tenth of the largest crowd waited and joins ran at most a tenth
 * of their peak, so what ticket-service spent there was the crowd's waiting, not its arriving.
 */
export function waitingRoomFigures(
  taken: readonly ProcessSample[],
  processes: ProcessFigures,
  fans: {
    arrived: number;
    far: { seconds: number };
    near: { seconds: number };
    edge: { requests: number; hits: number };
  },
): WaitingRoomFigures {
  const samples = taken.filter((s) => s.complete);
  const first = samples[0];
  const last = samples.at(-1);
  const byPurpose = grownEach(first?.redisByPurpose, last?.redisByPurpose);
  const requestsByRoute = grownEach(first?.ticketRoutes, last?.ticketRoutes);
  const tokenChecks = grownEach(first?.tokenChecks, last?.tokenChecks);
  const waitingCommands = Object.entries(byPurpose)
    .filter(([p]) => waiting.has(p))
    .reduce((n, [, v]) => n + v, 0);
  let waitingFanSeconds = 0;
  for (let i = 1; i < samples.length; i++)
    waitingFanSeconds +=
      ((samples[i - 1]!.waiting + samples[i]!.waiting) / 2) * windowSeconds(samples, i - 1);
  const answered = (route: string) => requestsByRoute[route] ?? 0;
  const joins = answered(QUEUE_ROUTES.join);
  const farMinutes = fans.far.seconds / 60;
  const nearMinutes = fans.near.seconds / 60;
  const farRequests = answered(QUEUE_ROUTES.status);
  const nearRequests = answered(QUEUE_ROUTES.me) + answered(QUEUE_ROUTES.stream);

  const ticket = processes.timeline.map((w) => ({ ...w, cores: w.cores['ticket-service'] ?? 0 }));
  const mostWaiting = Math.max(0, ...ticket.map((w) => w.waiting));
  const peakJoins = Math.max(0, ...ticket.map((w) => w.joins));
  const steady = ticket.filter(
    (w) => mostWaiting > 0 && w.waiting >= mostWaiting / 10 && w.joins <= peakJoins / 10,
  );
  const peak = ticket.reduce((p, w) => (w.cores > p.cores ? w : p), { cores: 0, atSecond: 0 });

  let heap = { bytes: 0, fans: 0 };
  for (const s of samples) if (s.inFlight > heap.fans) heap = { bytes: s.heapUsed, fans: s.inFlight };
  const base = first?.heapUsed ?? 0;
  return {
    fansArrived: fans.arrived,
    joins,
    requestsByRoute,
    tokenChecks: { signature: tokenChecks.signature ?? 0, remembered: tokenChecks.remembered ?? 0 },
    far: {
      fanMinutes: round(farMinutes, 1),
      originRequests: farRequests,
      perFanMinute: farMinutes > 0 ? farRequests / farMinutes : null,
    },
    near: {
      fanMinutes: round(nearMinutes, 1),
      originRequests: nearRequests,
      perFanMinute: nearMinutes > 0 ? round(nearRequests / nearMinutes) : null,
    },
    redis: {
      waitingCommands,
      waitingFanSeconds: Math.round(waitingFanSeconds),
      perWaitingFanSecond: waitingFanSeconds > 0 ? waitingCommands / waitingFanSeconds : null,
      perJoin: joins > 0 && byPurpose.join !== undefined ? round(byPurpose.join / joins, 2) : null,
      byPurpose,
      totalProcessed:
        first?.redisCommands === undefined || last?.redisCommands === undefined
          ? null
          : grown(first.redisCommands, last.redisCommands),
    },
    edge: {
      ...fans.edge,
      hitRatio: fans.edge.requests > 0 ? round(fans.edge.hits / fans.edge.requests, 4) : null,
    },
    ticketServiceCores: {
      steadyWaiting: median(steady.map((w) => w.cores)),
      steadyWindows: steady.length,
      peak: peak.cores,
      peakAtSecond: peak.atSecond,
    },
    generator: {
      peakHeapBytes: Math.max(0, ...samples.map((s) => s.heapUsed)),
      heapBytesPerFan: heap.fans > 0 ? Math.round((heap.bytes - base) / heap.fans) : null,
      peakFansInFlight: heap.fans,
    },
  };
}

const fmt = (n: number | null, digits = 2) => (n === null ? '—' : n.toFixed(digits));
const sci = (n: number | null) => (n === null ? '—' : n.toExponential(2));

/** Each service's CPU as summary rows. */
export function processRows(p: ProcessFigures | null | undefined): Array<[string, string]> {
  if (p === null || p === undefined) return [];
  return Object.entries(p.services).map(([service, s]) => [
    `${service} CPU (cores)`,
    `mean ${fmt(s.meanCores)}, peak ${fmt(s.peakCores)} at ${s.peakAtSecond} s (${s.replicas} process${s.replicas === 1 ? '' : 'es'}, ${s.cpuSeconds} CPU s)`,
  ]);
}

/** The waiting crowd's costs as summary rows. */
export function waitingRoomRows(w: WaitingRoomFigures | null | undefined): Array<[string, string]> {
  if (w === null || w === undefined) return [];
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  return [
    [
      'origin requests / waiting fan / min',
      `far ${sci(w.far.perFanMinute)} (${w.far.originRequests} over ${w.far.fanMinutes} fan-min); near ${fmt(w.near.perFanMinute)} (${w.near.originRequests} over ${w.near.fanMinutes} fan-min)`,
    ],
    [
      'Redis commands / waiting fan / s',
      `${sci(w.redis.perWaitingFanSecond)} (${w.redis.waitingCommands} over ${w.redis.waitingFanSeconds} fan-s); per join ${fmt(w.redis.perJoin)}; by purpose ${
        Object.entries(w.redis.byPurpose)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'not reported'
      }; Redis processed ${w.redis.totalProcessed ?? '—'}`,
    ],
    ['edge cache hit ratio', `${fmt(w.edge.hitRatio, 4)} (${w.edge.hits} of ${w.edge.requests})`],
    [
      'ticket-service cores',
      `steady waiting ${fmt(w.ticketServiceCores.steadyWaiting)} (median of ${w.ticketServiceCores.steadyWindows} windows); peak ${fmt(w.ticketServiceCores.peak)} at ${w.ticketServiceCores.peakAtSecond} s`,
    ],
    [
      'generator heap',
      `peak ${mib(w.generator.peakHeapBytes)}; ${w.generator.heapBytesPerFan ?? '—'} bytes per fan (${w.generator.peakFansInFlight} fans in flight)`,
    ],
  ];
}
