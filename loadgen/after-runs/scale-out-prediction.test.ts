// npm run sizing:check: the sizing model against this machine, once bench:queue, bench:saga and the scale-out
// scenario have written their reports. It is kept out of `npm test` (which runs on a fresh clone, with none of
// them) and fails, saying which command to run, when a report is missing: a check that passed on no data would
// say nothing (docs/scale.md).
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { costsFrom } from '../src/sizing/costs.ts';
import { newestRun, readBenchQueue, readBenchSaga, readRun } from '../src/sizing/report-files.ts';
import { PREDICTION_TOLERANCE, predictRun } from '../src/sizing/run-prediction.ts';
import { renderPrediction } from '../src/sizing/sizing-table.ts';

/** Where the reports are (SIZING_REPORTS, default reports/), and the scale-out run's report if named. */
const REPORTS = resolve(process.env.SIZING_REPORTS ?? 'reports');
const SCALE_OUT_REPORT = process.env.SIZING_SCALE_OUT_REPORT;

describe('the sizing model against this machine', () => {
  it(`predicts the busy cores of the scale-out run's ticket-service and payment-service replicas within ${PREDICTION_TOLERANCE * 100}% of what the run measured`, () => {
    const costs = costsFrom(readBenchQueue(REPORTS), readBenchSaga(REPORTS));
    const run =
      SCALE_OUT_REPORT === undefined
        ? newestRun(REPORTS, 'scale-out', 'scale-out run')
        : readRun(resolve(SCALE_OUT_REPORT), 'scale-out run');
    const prediction = predictRun(costs, run.report, run.source);
    console.log(renderPrediction(prediction));
    assert.ok(
      prediction.pass,
      prediction.services
        .filter((s) => !s.pass)
        .map(
          (s) =>
            `${s.service}: predicted ${s.predictedCores.toFixed(3)} cores, measured ${s.measuredCores.toFixed(3)} (${Math.round(s.error * 100)}%)`,
        )
        .join('; '),
    );
  });
});
