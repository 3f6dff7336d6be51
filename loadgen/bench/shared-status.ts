import { type CannonResult, cannon } from './cannon.ts';
import { ticketCpuOf } from './process-cpu.ts';
import { countedCommands } from './redis-costs.ts';

/** Answered without the origin: a hit, or a stale answer served while one request refreshes it (nginx). */
const SERVED_BY_EDGE = new Set(['HIT', 'STALE', 'UPDATING']);

/** The share of answers the edge served itself, from their X-Cache-Status values (MISS, EXPIRED, … went to the origin). */
export function edgeHitRatio(cacheStatuses: Readonly<Record<string, number>>): number {
  let total = 0;
  let hits = 0;
  for (const [status, n] of Object.entries(cacheStatuses)) {
    total += n;
    if (SERVED_BY_EDGE.has(status)) hits += n;
  }
  return total === 0 ? 0 : hits / total;
}

/** Whether the edge answers at all (its own health page, which needs no origin). */
export async function edgeUp(edgeUrl: string): Promise<boolean> {
  try {
    return (await fetch(`${edgeUrl}/edge-health`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

export type StatusRun = CannonResult & { statusCommandsPerSecond: number; originCpuSeconds: number };

/**
 * GET …/queue/status as fast as 64 connections ask it, straight at ticket-service and then through the edge (no
 * sign-in: the edge keeps a signed-in request out of the shared cache), each with the Redis commands ticket-service
 * counted for the shared status meanwhile, and the share of the edge's answers it served from its cache.
 */
export async function statusAtOriginAndEdge(o: {
  origin: string;
  edge: string;
  eventId: string;
  seconds: number;
  /** Each ticket-service process, whose counters add up. */
  processes: readonly string[];
}): Promise<{ origin: StatusRun; edge: StatusRun; edgeHitRatio: number }> {
  const run = async (label: string, url: string): Promise<StatusRun> => {
    const before = await countedCommands(o.processes);
    const { value: result, cpuSeconds } = await ticketCpuOf(() =>
      cannon({
        label,
        url,
        path: () => `/api/events/${o.eventId}/queue/status`,
        connections: 64,
        seconds: o.seconds,
        countHeader: 'x-cache-status',
      }),
    );
    const after = await countedCommands(o.processes);
    // Per second of the load, as its rate is.
    return {
      ...result,
      statusCommandsPerSecond: ((after.status ?? 0) - (before.status ?? 0)) / o.seconds,
      originCpuSeconds: cpuSeconds,
    };
  };
  const origin = await run('status  at the origin', o.origin);
  const edge = await run('status  through the edge', o.edge);
  return { origin, edge, edgeHitRatio: edgeHitRatio(edge.headerValues ?? {}) };
}
