import assert from 'node:assert/strict';
import type { WaitingRoomFigures } from '../src/report/process-figures.ts';
import { buildReport } from '../src/report/run-report.ts';
import { Recorder } from '../src/run/recorder.ts';
import { loadScenario } from '../src/scenario.ts';

/** What a crowd cost: far fans' requests to the origin per minute, and ticket-service's cores while they waited. */
function figures(farPerFanMinute: number | null, steadyCores: number | null): WaitingRoomFigures {
  return {
    fansArrived: 1000,
    joins: 1000,
    requestsByRoute: {},
    tokenChecks: { signature: 1000, remembered: 0 },
    far: { fanMinutes: 100, originRequests: (farPerFanMinute ?? 0) * 100, perFanMinute: farPerFanMinute },
    near: { fanMinutes: 10, originRequests: 30, perFanMinute: 3 },
    redis: {
      waitingCommands: 0,
      waitingFanSeconds: 0,
      perWaitingFanSecond: null,
      perJoin: null,
      byPurpose: {},
      totalProcessed: null,
    },
    edge: { requests: 0, hits: 0, hitRatio: null },
    ticketServiceCores: { steadyWaiting: steadyCores, steadyWindows: 3, peak: 1, peakAtSecond: 10 },
    generator: { peakHeapBytes: 0, heapBytesPerFan: null, peakFansInFlight: 0 },
  };
}

/** The million scenario's bounds on the waiting room, as the report judges them. */
function bounds(waitingRoom: WaitingRoomFigures) {
  const recorder = new Recorder(100);
  const report = buildReport({
    scenario: loadScenario('million'),
    capacity: 100,
    seed: 1,
    scale: 1,
    recorder,
    salesOpenAt: recorder.startedAt,
    finishedAt: recorder.startedAt + 1000,
    quiescence: { reached: true, waitedMs: 10, pending: 0, processing: 0, unpublished: 0 },
    invariants: [],
    registrationSeconds: 1,
    seatMap: { views: 0, originRequests: 0 },
    prometheus: { source: 'http://127.0.0.1:1', unavailable: 'not started for this test' },
    soldSeats: undefined,
    check: { eventId: 'e', ticketDb: 'x', paymentDb: 'x', accountDb: 'x' },
    payments: {
      inDoubt: 0,
      resolutionMs: { p50: 0, p99: 0, max: 0, count: 0 },
      unresolved: 0,
      providerCaptures: 0,
      providerRefunds: 0,
      lateCaptures: 0,
      wastedCaptures: 0,
      paidInTime: 0,
      paidInTimeLost: 0,
      refusedHoldExpired: 0,
    },
    facts: {},
    expectations: [],
    redelivered: {},
    faults: [],
    unexpectedExits: [],
    ownsServices: false,
    waitingRoom,
  });
  const pick = (prefix: string) => report.thresholds.find((t) => t.name.startsWith(prefix))?.pass;
  return { far: pick('origin requests / far fan'), cores: pick('ticket-service cores while') };
}

describe("the million scenario's bounds on what a waiting crowd costs", () => {
  it('pass a crowd whose far fans asked the origin at most 0.05 times a minute, on under half a core', () => {
    assert.deepEqual(bounds(figures(0.001, 0.2)), { far: true, cores: true });
  });

  it('fail far fans who ask the origin as near ones do, and a ticket-service busy with a waiting crowd', () => {
    assert.deepEqual(bounds(figures(3, 0.9)), { far: false, cores: false });
  });

  it('fail a run that measured neither, rather than passing what it did not see', () => {
    assert.deepEqual(bounds(figures(null, null)), { far: false, cores: false });
  });
});
