import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { z } from 'zod';
import { loadScenario } from '../scenario.ts';
import type { Measured } from './costs.ts';
import { type Figure, figure, type ReportSource, SizingInputError } from './figure.ts';
import {
  type BenchQueueReport,
  type BenchSagaReport,
  benchQueueShape,
  benchSagaShape,
  type RunReportFigures,
  runReportShape,
} from './report-shapes.ts';

/** The command that writes each report the sizing reads. */
export const REPORT_COMMANDS = {
  'bench:queue': 'npm run bench:queue',
  'bench:saga': 'npm run bench:saga',
  'million run': 'npm run scenario -- million',
  'scale-out run': 'npm run scenario:scale-out',
} as const;
export type ReportKind = keyof typeof REPORT_COMMANDS;

function readJson(file: string, kind: ReportKind): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SizingInputError(
      `${file} cannot be read as JSON (${(error as Error).message}): run ${REPORT_COMMANDS[kind]} to write it again`,
    );
  }
}

function parsed<T>(shape: z.ZodType<T>, json: unknown, file: string, kind: ReportKind): T {
  const result = shape.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues
    .slice(0, 8)
    .map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('\n');
  throw new SizingInputError(
    `${file} lacks figures the sizing reads (it was written before them, or by another version):\n${problems}\nrun ${REPORT_COMMANDS[kind]} to write it again`,
  );
}

function sourceOf(kind: ReportKind, file: string, measuredAt: string | undefined): ReportSource {
  return {
    report: kind,
    // Short where the report sits under the working directory, as reports/… does.
    file: relative(process.cwd(), file).startsWith('..') ? file : relative(process.cwd(), file),
    measuredAt: measuredAt ?? `${statSync(file).mtime.toISOString()} (the file's time)`,
    command: REPORT_COMMANDS[kind],
  };
}

function benchReport<T extends { at?: string | undefined }>(
  dir: string,
  name: string,
  kind: ReportKind,
  shape: z.ZodType<T>,
): Measured<T> {
  const file = join(dir, name);
  if (!existsSync(file))
    throw new SizingInputError(
      `no ${file}: run ${REPORT_COMMANDS[kind]} first, it writes the ${kind} costs there`,
    );
  const report = parsed(shape, readJson(file, kind), file, kind);
  return { report, source: sourceOf(kind, file, report.at) };
}

export const readBenchQueue = (dir: string): Measured<BenchQueueReport> =>
  benchReport(dir, 'bench-queue.json', 'bench:queue', benchQueueShape);

export const readBenchSaga = (dir: string): Measured<BenchSagaReport> =>
  benchReport(dir, 'bench-saga.json', 'bench:saga', benchSagaShape);

export interface MeasuredRun extends Measured<RunReportFigures> {
  /** Seconds over which the run's fans were meant to arrive, from the scenario as run. */
  arrivalWindow: Figure;
}

/** One scenario run's report, with the arrival window of the scenario it ran. */
export function readRun(file: string, kind: ReportKind): MeasuredRun {
  const report = parsed(runReportShape, readJson(file, kind), file, kind);
  if (report.figuresPublishable === false)
    throw new SizingInputError(
      `${file}: the load generator was the bottleneck of that run (figuresPublishable false), so its figures are the generator's, not the services'; run ${REPORT_COMMANDS[kind]} again`,
    );
  const source = sourceOf(kind, file, report.startedAt);
  let arrival = report.scenario.arrival;
  let from = `${file} scenario.arrival`;
  if (arrival === undefined) {
    // The report names its scenario; the file is the scenario as run unless it changed since.
    try {
      arrival = loadScenario(report.scenario.name).arrival;
    } catch (error) {
      throw new SizingInputError(
        `${file} does not carry its scenario's arrival, and scenarios/${report.scenario.name}.json cannot say it: ${(error as Error).message}`,
      );
    }
    from = `scenarios/${report.scenario.name}.json arrival (the report does not carry it)`;
  }
  return {
    report,
    source,
    arrivalWindow: figure(
      arrival.beforeOpenSeconds + arrival.overSeconds,
      `${from}: beforeOpenSeconds + overSeconds`,
    ),
  };
}

/**
 * The newest `<scenario>-*.json` under `dir` that holds the blocks the sizing reads (`processes` and
 * `waitingRoom`) from a run whose figures are publishable; a report of a run made before those blocks, or one whose
 * load generator was the bottleneck, is passed over, and none at all is an error naming the command.
 */
export function newestRun(dir: string, scenario: string, kind: ReportKind): MeasuredRun {
  const candidates = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.startsWith(`${scenario}-`) && name.endsWith('.json'))
        .map((name) => join(dir, name))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
    : [];
  for (const file of candidates) {
    const json = readJson(file, kind) as Record<string, unknown>;
    if (json.processes !== undefined && json.waitingRoom !== undefined && json.figuresPublishable !== false)
      return readRun(file, kind);
  }
  throw new SizingInputError(
    `no ${join(dir, `${scenario}-*.json`)} with a processes and a waitingRoom block from a publishable run${candidates.length > 0 ? ` (${candidates.length} report(s) of older runs or of runs whose load generator was the bottleneck)` : ''}: run ${REPORT_COMMANDS[kind]} first`,
  );
}
