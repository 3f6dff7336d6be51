import assert from 'node:assert/strict';
import { summarise } from '../src/fans/browser-fans.ts';
import { browserFanRows } from '../src/report/run-report.ts';

const vitals = (over: Record<string, number | null> = {}) => ({
  ttfbMs: 40,
  fcpMs: 200,
  lcpMs: 400,
  clsQueue: 0.01,
  clsSeatMap: 0,
  inpQueueMs: 16,
  inpSeatMapMs: 120,
  seatMapReadyMs: 250,
  ...over,
});

describe('browser fans: their report', () => {
  it('counts outcomes and gives each vital its p50, p95 and max over the fans that measured it', () => {
    const report = summarise([
      { outcome: 'CONFIRMED', attempts: 1, vitals: vitals({ lcpMs: 300, inpSeatMapMs: 80 }) },
      { outcome: 'CONFIRMED', attempts: 2, vitals: vitals({ lcpMs: 900, inpSeatMapMs: 400 }) },
      // Never admitted: its queue page counts, its seat map does not exist.
      { outcome: 'not-admitted', attempts: 0, vitals: vitals({ seatMapReadyMs: null, inpSeatMapMs: 0 }) },
      { outcome: 'error', attempts: 0, error: 'page crashed' },
    ]);
    assert.equal(report.fans, 4);
    assert.deepEqual(report.outcomes, { CONFIRMED: 2, 'not-admitted': 1, error: 1 });
    assert.equal(report.queuePage.lcpMs.count, 3);
    assert.equal(report.queuePage.lcpMs.max, 900);
    assert.equal(report.seatMap.inpMs.count, 2, 'only fans who saw the seat map');
    assert.equal(report.seatMap.inpMs.max, 400);
    assert.deepEqual(report.errors, ['page crashed']);
    const rows = Object.fromEntries(browserFanRows(report));
    assert.equal(rows['browser fans: outcomes'], '4: CONFIRMED 2, not-admitted 1, error 1');
    assert.match(rows['seat map INP p50 / p95 / max'] ?? '', /\/ 400 ms \(n=2\)$/);
  });

  it('adds nothing to a report without browser fans', () => {
    assert.deepEqual(browserFanRows(null), []);
  });
});
