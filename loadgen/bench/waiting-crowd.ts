import { setTimeout as sleep } from 'node:timers/promises';
import { createTracing, tracingConfigSchema } from '@reservex/kit';
import type { HttpClient } from '../src/fans/http-client.ts';
import { httpClient } from '../src/fans/http-client.ts';
import { type QueuedFan, waitingFans } from '../src/fans/waiting-fans.ts';
import { inBatches } from '../src/run/in-batches.ts';
import { Recorder } from '../src/run/recorder.ts';
import { cannon } from './cannon.ts';
import { type CommandsByPurpose, countedCommands, type WaitingCost, waitingCostOf } from './redis-costs.ts';

/** A fan in the queue as their join left them: what the join answered, which their page keeps. */
export interface JoinedFan {
  token: string;
  /** The signed queue ticket, shown to the origin near the front (X-Queue-Ticket). */
  ticket: string;
  number: number;
  /** The number's draw in the pre-queue's lottery: with the shared status, the fan's own estimate of their place. */
  draw: number;
  /** Whom they ask first: the origin inside the front window, the edge's shared status behind it. */
  ask: 'edge' | 'origin';
  pollAfterSeconds: number;
}

interface JoinAnswer {
  queueTicket: string;
  number: number;
  draw: number;
  ask: 'edge' | 'origin';
  pollAfterSeconds: number;
}

/** Every fan (one per token) joins the queue, keeping the join's answer; a fan whose join failed is left out. */
export async function joinCrowd(
  http: HttpClient,
  ticketUrl: string,
  eventId: string,
  tokens: readonly string[],
): Promise<JoinedFan[]> {
  const answers = await inBatches([...tokens], 64, async (token) => {
    const res = await http.post<JoinAnswer>(`${ticketUrl}/api/events/${eventId}/queue`, { token });
    if (res.status !== 200 && res.status !== 201) return undefined;
    const { queueTicket, number, draw, ask, pollAfterSeconds } = res.body;
    return { token, ticket: queueTicket, number, draw, ask, pollAfterSeconds };
  });
  return answers.filter((fan) => fan !== undefined);
}

/** How many of the fans ask the origin (inside the front window) and how many read the shared status. */
export function crowdSplit(fans: readonly Pick<JoinedFan, 'ask'>[]) {
  const nearFront = fans.filter((f) => f.ask === 'origin').length;
  return { fans: fans.length, nearFront, farBack: fans.length - nearFront };
}

const tracer = createTracing('bench-queue', tracingConfigSchema.parse({})).tracer;

/**
 * The joined fans waiting as their pages do (loadgen's waitingFans): far back each reads the shared status at
 * `statusUrl` (the edge) when its last look said, and works out its place; inside the front window each asks the
 * origin for its own place with its ticket, at the Retry-After. Until `until`, when they stop; `done` resolves once
 * every fan has.
 */
export function waitingCrowd(o: {
  fans: readonly JoinedFan[];
  ticketUrl: string;
  statusUrl: string;
  eventId: string;
  until: number;
}) {
  const recorder = new Recorder(0);
  const http = httpClient(recorder, 64);
  // One span for the whole crowd: the fans' polls need one to run in, and nobody reads these traces.
  const span = tracer.startSpan('waiting crowd');
  let left = o.fans.length;
  let allDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const fans = waitingFans<QueuedFan>({
    http,
    recorder,
    url: `${o.ticketUrl}/api/events/${o.eventId}/queue/me`,
    statusUrl: o.statusUrl,
    deadline: o.until,
    waited: () => {
      if (--left === 0) allDone();
    },
  });
  for (const fan of o.fans)
    fans.wait(
      { auth: fan.token, random: Math.random, span },
      {
        leavesAt: Number.POSITIVE_INFINITY,
        ticket: fan.ticket,
        number: fan.number,
        draw: fan.draw,
        ask: fan.ask,
        firstPollAfterSeconds: fan.pollAfterSeconds,
      },
    );
  if (left === 0) allDone();
  return {
    recorder,
    /** Waits for every fan to stop (at `until`), then lets the connections go. */
    async finished(): Promise<void> {
      await done;
      fans.stop();
      span.end();
      await http.close();
    },
  };
}

export type WaitingCrowd = ReturnType<typeof waitingCrowd>;

/**
 * What the crowd costs Redis over the next `seconds`: the waiting purposes ticket-service counted (over every process),
 * less what they ran at before the crowd came (`baselinePerSecond`), over the fans still waiting.
 */
export async function measureWaitingCost(o: {
  crowd: WaitingCrowd;
  processes: readonly string[];
  seconds: number;
  baselinePerSecond: CommandsByPurpose;
}): Promise<WaitingCost> {
  const before = await countedCommands(o.processes);
  const fansAtStart = o.crowd.recorder.waiting;
  const started = performance.now();
  await sleep(o.seconds * 1000);
  const after = await countedCommands(o.processes);
  const fansAtEnd = o.crowd.recorder.waiting;
  return waitingCostOf(
    { before, after, seconds: (performance.now() - started) / 1000, fansAtStart, fansAtEnd },
    o.baselinePerSecond,
  );
}

/**
 * A fan's own place (GET …/queue/me) as fast as 64 connections ask it, for `seconds`: what fans near the front ask
 * the origin, each request one fan's, with their token and their queue ticket.
 */
export function ownPlaceReads(o: {
  ticketUrl: string;
  eventId: string;
  fans: readonly JoinedFan[];
  seconds: number;
}) {
  return cannon({
    label: 'own place  GET /api/events/:id/queue/me',
    url: o.ticketUrl,
    path: () => `/api/events/${o.eventId}/queue/me`,
    tokens: o.fans.map((fan) => fan.token),
    headersOf: (i) => ({ 'x-queue-ticket': o.fans[i % o.fans.length]!.ticket }),
    connections: 64,
    seconds: o.seconds,
  });
}
