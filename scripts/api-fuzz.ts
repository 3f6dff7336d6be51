#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
// npm run api:fuzz [-- --seed N | --random-seed] [--examples N] [--service ticket,account,payment]
// Schemathesis against the three running services, from their own OpenAPI documents: every check, every phase
// (the examples, the coverage of boundaries and of unsupported methods, fuzzing, and the stateful phase that
// follows the documents' links), signed in as the admin. Brings the stack up first if it is not running. Prints
// the counts per service and exits non-zero on any failure.
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { adminToken, httpClient, Recorder } from '@reservex/loadgen';
import { defaultTargets, ensureStack, pythonTool, SCHEMATHESIS } from '@reservex/stack';

const ROOT = resolve(import.meta.dirname, '..');

interface Counts {
  service: string;
  operations: number;
  cases: number;
  checks: number;
  /** Distinct failures: a check failing the same way on the same operation counts once. */
  failures: string[];
  exit: number;
}

interface ScenarioRecorder {
  label?: string;
  cases?: Record<string, unknown>;
  checks?: Record<
    string,
    {
      name: string;
      status: string;
      failure_info?: { failure?: { code?: string; title?: string; operation?: string } };
    }[]
  >;
}

/** The run's counts, from schemathesis's NDJSON event stream. */
export function countsFromEvents(ndjson: string): Omit<Counts, 'service' | 'exit'> {
  const operations = new Set<string>();
  const cases = new Set<string>();
  const failures = new Set<string>();
  let checks = 0;
  for (const line of ndjson.split('\n')) {
    if (line.trim() === '') continue;
    const event = JSON.parse(line) as { ScenarioFinished?: { status: string; recorder?: ScenarioRecorder } };
    // An error that is not a check's failure (a network error, a timeout, a schema schemathesis could not use)
    // still fails the run: it is named, so a FAIL never comes without a reason.
    for (const [kind, detail] of Object.entries(event))
      if (/Error$/.test(kind)) failures.add(`${kind}: ${JSON.stringify(detail).slice(0, 300)}`);
    const finished = event.ScenarioFinished;
    if (finished?.status === 'error') failures.add(`error on ${finished.recorder?.label ?? '?'}`);
    if (finished === undefined || finished.status === 'skip') continue;
    const recorder = finished.recorder ?? {};
    if (recorder.label !== undefined) operations.add(recorder.label);
    for (const id of Object.keys(recorder.cases ?? {})) cases.add(id);
    for (const results of Object.values(recorder.checks ?? {})) {
      for (const check of results) {
        checks++;
        if (check.status !== 'failure') continue;
        const f = check.failure_info?.failure;
        failures.add(
          `${f?.code ?? check.name} ${f?.title ?? ''} on ${f?.operation ?? recorder.label ?? '?'}`,
        );
      }
    }
  }
  return { operations: operations.size, cases: cases.size, checks, failures: [...failures].sort() };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string' },
      'random-seed': { type: 'boolean' },
      examples: { type: 'string', default: '25' },
      service: { type: 'string', default: 'account,ticket,payment' },
    },
  });
  const seed = values['random-seed'] === true ? randomInt(1, 2 ** 31) : Number(values.seed ?? 2026);
  const examples = Number(values.examples);
  if (!Number.isInteger(seed) || !Number.isInteger(examples) || examples < 1) {
    console.error('api:fuzz: --seed and --examples take whole numbers');
    return 2;
  }
  const schemathesis = pythonTool(SCHEMATHESIS, (m) => console.log(`api:fuzz: ${m}`));
  const targets = defaultTargets(process.env);
  const reportDir = join(ROOT, 'reports', 'api-fuzz');
  rmSync(reportDir, { recursive: true, force: true });
  mkdirSync(reportDir, { recursive: true });
  const stack = await ensureStack(targets, {
    logDir: join(reportDir, 'logs'),
    log: (m) => console.log(`api:fuzz: ${m}`),
    proxied: false,
    mustOwn: [],
    web: false,
  });
  const results: Counts[] = [];
  try {
    const http = httpClient(new Recorder(0), 4);
    const token = await adminToken(targets, http).finally(() => http.close());
    const urls: Record<string, string> = {
      account: targets.account,
      ticket: targets.ticket,
      payment: targets.payment,
    };
    console.log(`api:fuzz: seed ${seed}, ${examples} examples per operation and phase`);
    for (const service of values.service.split(',')) {
      const url = urls[service];
      if (url === undefined)
        throw new Error(`api:fuzz: no service "${service}"; choose from ${Object.keys(urls).join(', ')}`);
      const events = join(reportDir, `${service}.ndjson`);
      const run = spawnSync(
        schemathesis,
        [
          'run',
          `${url}/openapi.json`,
          '--checks',
          'all',
          '--phases',
          'examples,coverage,fuzzing,stateful',
          '--seed',
          String(seed),
          '--max-examples',
          String(examples),
          '--header',
          `Authorization: Bearer ${token}`,
          '--report',
          'ndjson,junit',
          '--report-ndjson-path',
          events,
          '--report-junit-path',
          join(reportDir, `${service}.junit.xml`),
          '--workers',
          '2',
          '--no-color',
        ],
        { cwd: ROOT, stdio: 'inherit', env: { ...process.env, SCHEMATHESIS_TELEMETRY: 'false' } },
      );
      const counts = existsSync(events)
        ? countsFromEvents(readFileSync(events, 'utf8'))
        : { operations: 0, cases: 0, checks: 0, failures: ['no report: schemathesis did not run'] };
      results.push({ service, ...counts, exit: run.status ?? 1 });
    }
  } finally {
    await stack.stop();
  }
  console.log(`\napi:fuzz: seed ${seed}`);
  for (const r of results) {
    const pass = r.exit === 0 && r.failures.length === 0;
    console.log(
      `  ${pass ? 'PASS' : 'FAIL'}  ${r.service}: ${r.operations} operations, ${r.cases} test cases, ${r.checks} checks, ${r.failures.length} failures`,
    );
    for (const f of r.failures) console.log(`          ${f}`);
  }
  return results.every((r) => r.exit === 0 && r.failures.length === 0) ? 0 : 1;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
