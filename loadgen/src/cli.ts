#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { ConfigError } from '@reservex/kit';
// npm run scenario -- <name|file> [--scale N] [--seed S] [--json out.json] [--html out.html] [--target …]
import { defaultTargets, parseReplicas, ReplicasError, type Targets } from '@reservex/stack';
import { type CheckerOptions, checkInvariants } from './invariants/index.ts';
import { runScenario } from './run/run-scenario.ts';
import { capacity, listScenarios, loadScenario, ScenarioError, scaleScenario } from './scenario.ts';

const USAGE = `usage: npm run scenario -- <name|file> [options]
       npm run scenario:flash-sale [-- options]
       npm run scenario -- check <report.json>   the invariants again, on a finished run (reads the databases afresh)

scenarios: ${listScenarios().join(', ')} (scenarios/<name>.json), or a path to a scenario file

options:
  --scale N       N times the fans and the seats (default 1)
  --seed S        seed for fans, choices and arrivals (default: random, printed)
  --json FILE     write the JSON report there (default reports/<scenario>-<time>.json)
  --html FILE     write the HTML report there (default reports/<scenario>-<time>.html)
  --replicas LIST run services as replicas behind HAProxy: ticket=3,payment=2,account=2 (over the
                  scenario's own "replicas"; RESERVEX_REPLICAS says the same)
  --browser-fans N
                  N real browser fans (headless Chromium through the web page) alongside the crowd;
                  the report gives their outcomes and the web vitals of the queue and seat-map pages
  --target LIST   test an already running stack instead of starting one:
                  account=URL,ticket=URL,payment=URL (the checker still reads the databases named by
                  ACCOUNT_DATABASE_URL, TICKET_DATABASE_URL, PAYMENT_DATABASE_URL and KAFKA_BROKERS)
  -h, --help      this text

exit code: 0 when every invariant and threshold passes, 1 when any fails, 2 on bad usage`;

class UsageError extends Error {}

function positiveNumber(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, got "${raw}"`);
  return n;
}

function browserFansOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 20)
    throw new UsageError(
      `--browser-fans takes a whole number from 0 to 20 (each is a Chromium tab), not "${raw}"`,
    );
  return n;
}

function parseTargets(raw: string | undefined, base: Targets): Targets {
  if (raw === undefined) return base;
  const t = { ...base };
  for (const part of raw.split(',')) {
    const [name, url] = part.split('=');
    if (
      (name !== 'account' && name !== 'ticket' && name !== 'payment') ||
      url === undefined ||
      !URL.canParse(url)
    ) {
      throw new UsageError(
        `--target takes account=URL,ticket=URL,payment=URL; "${part}" is not one of those`,
      );
    }
    t[name] = url.replace(/\/$/, '');
  }
  return t;
}

/**
 * What the generator holds at its most: the run's 1,000,000 fans of 2026-12-07 peaked at 3.4 GB of heap with
 * 956,336 in flight (2,431 bytes each, the accounts and their tokens included), past Node's default limit here
 * once the rest of the run is counted. With a margin: 4 KB a fan and 512 MiB for the rest.
 */
function heapNeededFor(fans: number): number {
  return fans * 4096 + 512 * 2 ** 20;
}

const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      scale: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'string' },
      html: { type: 'string' },
      target: { type: 'string' },
      replicas: { type: 'string' },
      'browser-fans': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals[0] === 'check') {
    if (positionals.length !== 2)
      throw new UsageError('check takes one report: npm run scenario -- check <report.json>');
    return recheck(positionals[1]!);
  }
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0 ? 'name a scenario' : `one scenario at a time, got ${positionals.join(' ')}`,
    );
  const scale = positiveNumber('--scale', values.scale, 1);
  const seed =
    values.seed === undefined
      ? Math.floor(Math.random() * 2 ** 31)
      : Math.floor(positiveNumber('--seed', values.seed, 1));
  const loaded = scaleScenario(loadScenario(positionals[0]!), scale);
  const scenario = {
    ...loaded,
    replicas: { ...loaded.replicas, ...parseReplicas(values.replicas ?? process.env.RESERVEX_REPLICAS) },
  };
  const seats = capacity(scenario);
  const heapNeeded = heapNeededFor(scenario.users);
  const heapLimit = getHeapStatistics().heap_size_limit;
  if (heapLimit < heapNeeded)
    throw new UsageError(
      `${scenario.users} fans need about ${mib(heapNeeded)} MiB of the generator's heap, and it may use ${mib(heapLimit)}: ` +
        `run it with NODE_OPTIONS=--max-old-space-size=${Math.ceil(mib(heapNeeded) / 1024) * 1024} (npm run scenario sets 8192)`,
    );
  const targets = parseTargets(values.target, defaultTargets(process.env));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const reportDir = resolve('reports');
  const jsonPath = values.json ?? join(reportDir, `${scenario.name}-${stamp}.json`);
  const htmlPath = values.html ?? join(reportDir, `${scenario.name}-${stamp}.html`);
  const log = (m: string) => console.log(`scenario: ${m}`);
  log(`${scenario.name}: ${scenario.users} fans for ${seats} seats, seed ${seed}, scale ${scale}`);

  return (await runScenario({
    scenario,
    seed,
    scale,
    targets,
    external: values.target !== undefined,
    reportDir,
    stamp,
    jsonPath,
    htmlPath,
    log,
    browserFans: browserFansOf(values['browser-fans']) ?? scenario.browserFans,
  }))
    ? 0
    : 1;
}

/** `check <report.json>`: the invariant checker again, on a finished run's event, reading the databases afresh. */
async function recheck(path: string): Promise<number> {
  let report: { scenario?: { name?: string }; check?: CheckerOptions };
  try {
    report = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`${path} is not a readable report: ${(error as Error).message}`);
  }
  if (report.check?.eventId === undefined)
    throw new UsageError(
      `${path} holds no check target (eventId and databases): was it written by this runner?`,
    );
  console.log(`scenario: checking "${report.scenario?.name ?? '?'}" again, event ${report.check.eventId}`);
  const results = await checkInvariants(report.check);
  for (const r of results) console.log(`    ${r.verdict.padEnd(4)}  ${r.name}: ${r.detail}`);
  const passed = results.every((r) => r.verdict !== 'FAIL');
  console.log(`\n  result: ${passed ? 'PASS' : 'FAIL'}`);
  return passed ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    if (error instanceof ConfigError) {
      console.error(`scenario: ${error.message}`);
      process.exit(2);
    }
    if (
      error instanceof UsageError ||
      error instanceof ReplicasError ||
      error instanceof ScenarioError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      console.error(`scenario: ${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(`scenario: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
