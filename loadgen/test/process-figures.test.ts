import assert from 'node:assert/strict';
import { processFigures, waitingRoomFigures } from '../src/report/process-figures.ts';
import type { ProcessSample } from '../src/run/process-sampler.ts';

const START = 1_800_000_000_000;

/** A sample at `second`, with ticket-service's CPU seconds so far, or none when its /metrics did not answer. */
function sample(second: number, cpu: number | undefined): ProcessSample {
  return {
    at: START + second * 1000,
    cpuSeconds: cpu === undefined ? {} : { 'ticket-service': cpu },
    ticketRoutes: {},
    tokenChecks: {},
    redisByPurpose: {},
    redisCommands: undefined,
    processes: { 'ticket-service': 1 },
    arrived: 0,
    waiting: 0,
    inFlight: 0,
    heapUsed: 0,
    complete: cpu !== undefined,
  };
}

describe("the services' CPU, from their own counters sampled during a run", () => {
  it('measures a window around a process that did not answer as one, not as a restart that spent its whole CPU at once', () => {
    const figures = processFigures(
      [sample(0, 10), sample(5, 15), sample(10, undefined), sample(15, 25)],
      START,
      5,
    );
    const ticket = figures.services['ticket-service']!;
    assert.equal(ticket.peakCores, 1, 'ten CPU seconds over the ten seconds from 5 s to 15 s');
    assert.equal(ticket.cpuSeconds, 15);
    assert.deepEqual(
      figures.timeline.map((w) => [w.atSecond, w.cores['ticket-service']]),
      [
        [5, 1],
        [15, 1],
      ],
    );
  });

  it('counts a process that restarted from its new start, not as negative time', () => {
    const figures = processFigures([sample(0, 100), sample(5, 102), sample(10, 3)], START, 5);
    assert.deepEqual(
      figures.timeline.map((w) => w.cores['ticket-service']),
      [0.4, 0.6],
    );
  });
});

describe("ticket-service's work over a run, from its own counters", () => {
  const counted = (second: number, routes: Record<string, number>, tokens: Record<string, number>) => ({
    ...sample(second, second),
    ticketRoutes: routes,
    tokenChecks: tokens,
  });
  const fans = { arrived: 0, far: { seconds: 0 }, near: { seconds: 0 }, edge: { requests: 0, hits: 0 } };

  it('counts every route it answered and every token check made over the run, not since each process started', () => {
    const taken = [
      counted(0, { '/api/reservations': 5 }, { signature: 100, remembered: 7 }),
      counted(5, { '/api/reservations': 9, '/api/events/:id/seats': 3 }, { signature: 130, remembered: 20 }),
    ];
    const figures = waitingRoomFigures(taken, processFigures(taken, START, 5), fans);
    assert.deepEqual(figures.requestsByRoute, { '/api/reservations': 4, '/api/events/:id/seats': 3 });
    assert.deepEqual(figures.tokenChecks, { signature: 30, remembered: 13 });
  });
});
