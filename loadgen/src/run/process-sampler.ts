import { Redis } from 'ioredis';
import type { Recorder } from './recorder.ts';

/** One look at every service process and the waiting room's Redis, at one moment of the run. */
export interface ProcessSample {
  /** ms since the epoch. */
  at: number;
  /** CPU seconds so far, summed over each service's processes (a replica that restarted starts again at 0). */
  cpuSeconds: Record<string, number>;
  /** ticket-service's answers so far, by route template, summed over its replicas. */
  ticketRoutes: Record<string, number>;
  /** ticket-service's access-token checks so far, by how (access_token_checks_total): signature or remembered. */
  tokenChecks: Record<string, number>;
  /** ticket-service's Redis commands so far, by purpose (waiting_room_redis_commands_total). */
  redisByPurpose: Record<string, number>;
  /** Redis's own count of the commands it processed (INFO stats); undefined when it could not say. */
  redisCommands: number | undefined;
  /** How many processes each service had. */
  processes: Record<string, number>;
  arrived: number;
  waiting: number;
  /** Fans in the generator: arrived and not yet done. */
  inFlight: number;
  heapUsed: number;
  /**
   * Whether every process answered its /metrics. One that did not would read as a counter gone back to 0, a restart,
   * and the next sample would count the process's whole CPU since it started in one window.
   */
  complete: boolean;
}

/** The sum of a metric's series in Prometheus's text format, grouped by one label (or all under ''). */
export function metricSums(text: string, name: string, label?: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!Number.isFinite(value)) continue;
    const key = label === undefined ? '' : (new RegExp(`[{,]${label}="([^"]*)"`).exec(line)?.[1] ?? '');
    sums.set(key, (sums.get(key) ?? 0) + value);
  }
  return sums;
}

const add = (into: Record<string, number>, from: Map<string, number>) => {
  for (const [k, v] of from) into[k] = (into[k] ?? 0) + v;
};

async function scrape(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Samples, every `intervalMs`, each service process's own /metrics (its CPU, and ticket-service's answers by route
 * and Redis commands by purpose), Redis's INFO and the generator's own heap, beside the crowd's counts: the
 * figures of what a waiting fan costs are differences between two samples.
 */
export function startProcessSampler(o: {
  metricsUrls: () => Partial<Record<string, string[]>>;
  redisUrl: string;
  recorder: Recorder;
  intervalMs?: number;
}) {
  const redis = new Redis(o.redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
  });
  redis.on('error', () => {});
  const samples: ProcessSample[] = [];
  let busy = false;
  const take = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const at = Date.now();
      const sample: ProcessSample = {
        at,
        cpuSeconds: {},
        ticketRoutes: {},
        tokenChecks: {},
        redisByPurpose: {},
        redisCommands: undefined,
        processes: {},
        arrived: o.recorder.usersArrived,
        waiting: o.recorder.waiting,
        inFlight: o.recorder.usersArrived - o.recorder.usersDone,
        heapUsed: process.memoryUsage().heapUsed,
        complete: true,
      };
      const urls = o.metricsUrls();
      for (const [service, list] of Object.entries(urls)) sample.processes[service] = list?.length ?? 0;
      await Promise.all(
        Object.entries(urls).flatMap(([service, list]) =>
          (list ?? []).map(async (url) => {
            const text = await scrape(url);
            if (text === undefined) {
              sample.complete = false;
              return;
            }
            add(
              sample.cpuSeconds,
              new Map([[service, metricSums(text, 'process_cpu_seconds_total').get('') ?? 0]]),
            );
            if (service !== 'ticket-service') return;
            add(sample.ticketRoutes, metricSums(text, 'http_server_request_duration_seconds_count', 'route'));
            add(sample.redisByPurpose, metricSums(text, 'waiting_room_redis_commands_total', 'purpose'));
            add(sample.tokenChecks, metricSums(text, 'access_token_checks_total', 'how'));
          }),
        ),
      );
      sample.redisCommands = await redisCommandsProcessed(redis);
      samples.push(sample);
    } finally {
      busy = false;
    }
  };
  const interval = o.intervalMs ?? 5000;
  void take();
  const timer = setInterval(() => void take(), interval);
  timer.unref();
  return {
    samples,
    intervalSeconds: interval / 1000,
    /** One last sample, then the samples taken. */
    async stop(): Promise<ProcessSample[]> {
      clearInterval(timer);
      await take();
      redis.disconnect();
      return samples;
    },
  };
}

async function redisCommandsProcessed(redis: Redis): Promise<number | undefined> {
  try {
    if (redis.status === 'wait') await redis.connect();
    const info = await redis.info('stats');
    const n = Number(/total_commands_processed:(\d+)/.exec(info)?.[1]);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}
