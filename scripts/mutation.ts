#!/usr/bin/env node
// npm run mutation [-- --changed | --store]
// Stryker on the domain code (the pure state machines and decisions of each service), against the mutation-score
// floor in stryker.config.json. With --changed, only the domain files changed since MUTATION_BASE (default: the
// previous commit), as CI runs it; with no such file it says so and passes.
import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..');
const DOMAIN = /^system\/[^/]+\/src\/domain\/[^/]+\.ts$/;

export function changedDomainFiles(base: string): string[] {
  const out = execFileSync('git', ['diff', '--name-only', '--diff-filter=AM', base, 'HEAD'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return out.split('\n').filter((f) => DOMAIN.test(f));
}

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: { changed: { type: 'boolean' }, store: { type: 'boolean' } },
  });
  // The store code is mutated against the service suites on the real infrastructure: an hour here, so nightly.
  const args = ['run', values.store ? 'stryker.store.json' : 'stryker.config.json'];
  if (values.changed) {
    const base = process.env.MUTATION_BASE ?? 'HEAD~1';
    const files = changedDomainFiles(base);
    if (files.length === 0) {
      console.log(`mutation: no domain code changed since ${base}; nothing to mutate`);
      return 0;
    }
    console.log(`mutation: ${files.length} domain file(s) changed since ${base}: ${files.join(', ')}`);
    args.push('--mutate', files.join(','));
  }
  const run = spawnSync(resolve(ROOT, 'node_modules/.bin/stryker'), args, { cwd: ROOT, stdio: 'inherit' });
  return run.status ?? 1;
}

if (import.meta.main) process.exit(main(process.argv.slice(2)));
