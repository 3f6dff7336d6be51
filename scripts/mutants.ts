#!/usr/bin/env node
// npm run mutants [-- <id> ...] [--list]
// The catalogue of seeded bugs (mutants/catalogue.json): each a small, realistic patch that a hurried engineer
// could write, and the check that must catch it. Each is applied alone to a fresh git worktree of HEAD, the
// check runs there against the real infrastructure, and the mutant is killed when the check fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..');

interface Mutant {
  id: string;
  /** The bug in words: what goes wrong, and why someone might write it. */
  represents: string;
  patch: string;
  /**
   * A bug a check can catch only some of the time, by nature (a lost commit needs the loss to fall inside the
   * replication lag): each run of the catalogue repeats its check `runs` times and counts it caught when at least
   * `atLeast` of them catch it, and says the rate. Without it a mutant is caught by one run, or by 9 of 10 with --repeat.
   */
  race?: { runs: number; atLeast: number };
  /** What must catch it: mocha test files, or a scenario (with its arguments). */
  caughtBy:
    | TestsCheck
    | { scenario: string; args?: string[]; env?: Record<string, string> }
    | { script: string; args?: string[] };
}

interface TestsCheck {
  tests: string[];
  /** Only the tests whose titles match (mocha --grep): the kill is then that test's failure, not any. */
  grep?: string;
}

export function loadCatalogue(): Mutant[] {
  return JSON.parse(readFileSync(join(ROOT, 'mutants', 'catalogue.json'), 'utf8')) as Mutant[];
}

/** A worktree of HEAD whose node_modules links the workspace packages to the worktree's own sources. */
function worktree(id: string): string {
  const dir = join(tmpdir(), `reservex-mutant-${id}-${process.pid}`);
  execFileSync('git', ['worktree', 'add', '--detach', '--force', dir, 'HEAD'], { cwd: ROOT, stdio: 'pipe' });
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@reservex'), { recursive: true });
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    if (entry === '@reservex') continue;
    symlinkSync(join(ROOT, 'node_modules', entry), join(modules, entry));
  }
  // Each workspace package of the worktree under its own name, wherever it lives (system/kit, stack, web, …).
  const { workspaces } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    workspaces: string[];
  };
  for (const workspace of workspaces) {
    const { name } = JSON.parse(readFileSync(join(ROOT, workspace, 'package.json'), 'utf8')) as {
      name: string;
    };
    symlinkSync(join(dir, workspace), join(modules, name));
  }
  return dir;
}

/**
 * Whether mocha's JSON report shows a test (not a hook: a stack that could not start judges nothing) failing.
 * 1 killed, 0 survived, -1 nothing was judged (no report, no test run, or only a hook failed).
 */
export function judgedByTests(reportFile: string): number {
  try {
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
      stats: { tests: number };
      failures: Array<{ fullTitle: string }>;
    };
    const failedTests = report.failures.filter((f) => !/"(before|after) (all|each)" hook/.test(f.fullTitle));
    if (failedTests.length > 0) return 1;
    return report.stats.tests > 0 && report.failures.length === 0 ? 0 : -1;
  } catch {
    return -1;
  }
}

function removeWorktree(dir: string): void {
  spawnSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}

/** The check's arguments for its `run`-th repetition: a scenario gets the next seed each time. */
function withRun(args: readonly string[], run: number): string[] {
  if (run === 0) return [...args];
  const i = args.indexOf('--seed');
  if (i === -1) return [...args, '--seed', String(1 + run)];
  return args.map((a, j) => (j === i + 1 ? String(Number(a) + run) : a));
}

function check(dir: string, m: Mutant, repetition = 0): { exit: number; seconds: number } {
  const started = Date.now();
  const node = join(ROOT, 'node_modules', '.bin', 'node');
  const args =
    'script' in m.caughtBy
      ? [m.caughtBy.script, ...(m.caughtBy.args ?? [])]
      : 'tests' in m.caughtBy
        ? [
            'node_modules/mocha/bin/mocha.js',
            '--no-config',
            '--extension',
            'ts',
            '--timeout',
            '120000',
            '--exit',
            '--require',
            'test/testcontainers-fixture.ts',
            '--reporter',
            'json',
            '--reporter-option',
            `output=${join(dir, 'mutant-tests.json')}`,
            ...(m.caughtBy.grep === undefined ? [] : ['--grep', m.caughtBy.grep]),
            ...m.caughtBy.tests,
          ]
        : [
            'loadgen/src/cli.ts',
            m.caughtBy.scenario,
            ...withRun(m.caughtBy.args ?? [], repetition),
            '--json',
            join(dir, 'mutant-report.json'),
            '--html',
            join(dir, 'mutant-report.html'),
          ];
  const run = spawnSync(node, args, {
    cwd: dir,
    stdio: process.env.MUTANTS_VERBOSE ? 'inherit' : 'ignore',
    // The checks run against this checkout's infrastructure, not a second one of the worktree's own.
    // A scenario may need the infrastructure in another shape (PG_CLUSTER=3 for a node loss).
    env: {
      ...process.env,
      RESERVEX_INFRA_DIR: process.env.RESERVEX_INFRA_DIR ?? join(ROOT, '.infra'),
      ...('env' in m.caughtBy ? m.caughtBy.env : {}),
    },
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  if ('scenario' in m.caughtBy) {
    // A scenario kills a mutant only by judging it: a report that says FAIL. A run that crashed judged nothing.
    try {
      const report = JSON.parse(readFileSync(join(dir, 'mutant-report.json'), 'utf8')) as { passed: boolean };
      return { exit: report.passed ? 0 : 1, seconds };
    } catch {
      return { exit: -1, seconds };
    }
  }
  // Tests kill a mutant by failing, not by crashing: a suite that could not even start judged nothing.
  return {
    exit: 'tests' in m.caughtBy ? judgedByTests(join(dir, 'mutant-tests.json')) : (run.status ?? 1),
    seconds,
  };
}

/**
 * A check that needs the infrastructure in another shape (a PostgreSQL cluster for a node loss): what runs now is
 * stopped, the other shape comes up for the check, and afterwards the first comes back, as nightly does by hand.
 */
function reshapeInfrastructure(from: NodeJS.ProcessEnv, to: NodeJS.ProcessEnv): void {
  const cli = join(ROOT, 'stack', 'src', 'infra', 'cli.ts');
  spawnSync(process.execPath, [cli, 'down', '--quiet'], { stdio: 'inherit', env: from });
  spawnSync(process.execPath, [cli, 'up', '--quiet'], { stdio: 'inherit', env: to });
}

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      /** Runs each scenario check this many times, on successive seeds: how reliably a race is caught. */
      repeat: { type: 'string' },
    },
  });
  const catalogue = loadCatalogue();
  if (values.help) {
    console.log(
      'usage: npm run mutants [-- <id> ...] [--list] [--repeat N]   (MUTANTS_VERBOSE=1 shows each check)',
    );
    return 0;
  }
  if (values.list) {
    for (const m of catalogue) console.log(`${m.id.padEnd(34)} ${m.represents}`);
    return 0;
  }
  const unknown = positionals.filter((id) => !catalogue.some((m) => m.id === id));
  if (unknown.length > 0) {
    console.error(`mutants: no such mutant: ${unknown.join(', ')} (npm run mutants -- --list)`);
    return 2;
  }
  const chosen = positionals.length === 0 ? catalogue : catalogue.filter((m) => positionals.includes(m.id));
  const repeat = Number(values.repeat ?? 1);
  if (!Number.isInteger(repeat) || repeat < 1) {
    console.error(`mutants: --repeat takes a whole number of runs, not "${values.repeat}"`);
    return 2;
  }
  // The checks need the real servers, as npm test does.
  if (
    spawnSync(process.execPath, [join(ROOT, 'stack', 'src', 'infra', 'cli.ts'), 'up', '--quiet'], {
      stdio: 'inherit',
    }).status !== 0
  )
    return 1;
  let survived = 0;
  for (const m of chosen) {
    const dir = worktree(m.id);
    const shape = 'env' in m.caughtBy ? m.caughtBy.env : undefined;
    if (shape !== undefined) reshapeInfrastructure(process.env, { ...process.env, ...shape });
    try {
      const applied = spawnSync('git', ['apply', join(ROOT, 'mutants', m.patch)], {
        cwd: dir,
        encoding: 'utf8',
      });
      if (applied.status !== 0) {
        console.log(`STALE    ${m.id}: the patch no longer applies (${applied.stderr.trim()}); refresh it`);
        survived++;
        continue;
      }
      const by =
        'tests' in m.caughtBy
          ? m.caughtBy.tests.join(' ')
          : 'script' in m.caughtBy
            ? m.caughtBy.script
            : `scenario ${m.caughtBy.scenario}`;
      const runsOf = values.repeat === undefined ? (m.race?.runs ?? 1) : repeat;
      if (runsOf > 1) {
        // A mutant counts as caught only if it is caught in at least 9 runs of 10, or as often as its race says.
        const runs = Array.from({ length: runsOf }, (_, run) => check(dir, m, run));
        const kills = runs.filter((r) => r.exit > 0).length;
        const atLeast = m.race === undefined ? Math.ceil(0.9 * runsOf) : Math.min(m.race.atLeast, runsOf);
        const caught = kills >= atLeast;
        if (!caught) survived++;
        console.log(
          `${caught ? 'KILLED  ' : 'SURVIVED'} ${m.id} by ${by} in ${kills} of ${runsOf} runs, catch rate ${(kills / runsOf).toFixed(2)}, at least ${atLeast} needed (${runs.map((r) => (r.exit > 0 ? 'K' : r.exit === 0 ? 's' : '?')).join('')}, ${runs.reduce((n, r) => n + r.seconds, 0)} s)`,
        );
        continue;
      }
      const { exit, seconds } = check(dir, m);
      if (exit === -1) {
        survived++;
        console.log(
          `BROKEN   ${m.id}: ${by} did not complete, so it judged nothing (MUTANTS_VERBOSE=1 shows why)`,
        );
        continue;
      }
      if (exit === 0) survived++;
      console.log(`${exit === 0 ? 'SURVIVED' : 'KILLED  '} ${m.id} by ${by} (${seconds} s)`);
    } finally {
      removeWorktree(dir);
      if (shape !== undefined) reshapeInfrastructure({ ...process.env, ...shape }, process.env);
    }
  }
  const killed = chosen.length - survived;
  console.log(
    `\nmutants: ${killed} of ${chosen.length} killed (kill ratio ${(killed / Math.max(1, chosen.length)).toFixed(2)})`,
  );
  console.log(`${killed} passed, ${survived} failed`);
  return survived === 0 ? 0 : 1;
}

if (import.meta.main) process.exit(main(process.argv.slice(2)));
