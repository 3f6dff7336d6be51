import type { RequestHandler } from 'express';
import type pg from 'pg';
import { Counter, type Registry } from 'prom-client';
import { yieldRetryAfterSeconds } from './event-loop-pressure.ts';
import { ServiceUnavailableProblem } from './problem.ts';

/**
 * Requests that give way to the rest when the process is saturated (kit's eventLoopPressure): the waiting room's
 * joins, which a herd can send faster than one process serves them, ahead of the bookings of fans already admitted.
 */
export interface Yielding {
  matches: (method: string, path: string) => boolean;
  /** The share of them to refuse now (0 to 1). */
  share: () => number;
  /** Retry-After at a small share; it grows with the share (yieldRetryAfterSeconds). */
  retryAfterSeconds: number;
  random?: () => number;
}

export interface LoadShedderOptions {
  registry: Registry;
  /** The database pool whose queue of waiting requests is watched. */
  pool?: Pick<pg.Pool, 'waitingCount' | 'totalCount'>;
  /** Requests being served at once (exempt routes excepted) beyond which a new one is refused at once. */
  maxInFlight: number;
  /**
   * A queue for database connections that has not drained for this long is a standing queue (CoDel's idea): new
   * requests are then refused until it drains, rather than waiting behind it.
   */
  maxQueueMs: number;
  /** What Retry-After says. */
  retryAfterSeconds: number;
  /**
   * Paths never refused nor counted: the waiting room's own routes are where a crowd is meant to wait, and its
   * event stream stays open as long as the fan waits.
   */
  exempt?: (path: string) => boolean;
  /**
   * Requests that are the point of the service (a booking): refused only when too many are in flight, never for
   * the database queue, so that reads and polls are shed first (the SRE book's criticality).
   */
  critical?: (method: string, path: string) => boolean;
  /** Checked before `exempt`: a yielding route may be one the other two signals never shed. */
  yields?: Yielding;
  now?: () => number;
}

/**
 * Shedding at the edge (docs/overload.md): when the service is saturated a request gets a quick 503 problem+json
 * with Retry-After instead of waiting tens of seconds for a database connection. Two signals: too many requests
 * in flight, or a standing queue at the database pool. Both are read on each request, no timer.
 */
export function loadShedder(options: LoadShedderOptions): RequestHandler {
  const now = options.now ?? Date.now;
  const shed = new Counter({
    name: 'http_requests_shed_total',
    help: 'Requests refused with 503 + Retry-After because the service was saturated',
    labelNames: ['reason'] as const,
    registers: [options.registry],
  });
  let inFlight = 0;
  let queuedSince: number | undefined;

  const standingQueue = (): boolean => {
    const pool = options.pool;
    // A few waiters are a burst; more waiters than connections is a queue.
    if (pool === undefined || pool.waitingCount <= Math.max(1, pool.totalCount)) {
      queuedSince = undefined;
      return false;
    }
    queuedSince ??= now();
    return now() - queuedSince > options.maxQueueMs;
  };

  const gaveWay = (yielding: Yielding, method: string, path: string) => {
    if (!yielding.matches(method, path)) return undefined;
    const share = yielding.share();
    const random = yielding.random ?? Math.random;
    return share > 0 && random() < share
      ? yieldRetryAfterSeconds(share, yielding.retryAfterSeconds, random)
      : undefined;
  };

  return (req, res, next) => {
    const retryAfter =
      options.yields === undefined ? undefined : gaveWay(options.yields, req.method, req.path);
    if (retryAfter !== undefined) {
      shed.inc({ reason: 'event-loop' });
      next(
        new ServiceUnavailableProblem(
          retryAfter,
          'The service is saturated and gives its time to requests already under way; try again after the time Retry-After gives',
          'overloaded',
        ),
      );
      return;
    }
    // Only the service says which routes are never shed (by path): a header the client chooses, such as Accept:
    // text/event-stream, would let any request past the shedder and out of the count.
    if (options.exempt?.(req.path) === true) {
      next();
      return;
    }
    const critical = options.critical?.(req.method, req.path) === true;
    const reason =
      inFlight >= options.maxInFlight
        ? 'in-flight'
        : !critical && standingQueue()
          ? 'database-queue'
          : undefined;
    if (reason !== undefined) {
      shed.inc({ reason });
      next(
        new ServiceUnavailableProblem(
          options.retryAfterSeconds,
          'The service is saturated; try again after the time Retry-After gives',
          'overloaded',
        ),
      );
      return;
    }
    inFlight++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      inFlight--;
    };
    res.once('finish', finish);
    res.once('close', finish);
    next();
  };
}

/** The shedder's settings from a service's configuration (kit's base schema). */
export function sheddingFrom(
  config: { HTTP_MAX_IN_FLIGHT: number; HTTP_SHED_QUEUE_MS: number; HTTP_SHED_RETRY_AFTER_SECONDS: number },
  pool: LoadShedderOptions['pool'],
  rules: Pick<LoadShedderOptions, 'exempt' | 'critical' | 'yields'> = {},
): Omit<LoadShedderOptions, 'registry'> {
  return {
    pool,
    maxInFlight: config.HTTP_MAX_IN_FLIGHT,
    maxQueueMs: config.HTTP_SHED_QUEUE_MS,
    retryAfterSeconds: config.HTTP_SHED_RETRY_AFTER_SECONDS,
    ...rules,
  };
}
