import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { judgedByTests, loadCatalogue } from './mutants.ts';

const ROOT = resolve(import.meta.dirname, '..');

describe('the seeded-bug catalogue (mutants/)', () => {
  for (const m of loadCatalogue()) {
    it(`${m.id}: its patch still applies to the code it mutates, and names what must catch it`, () => {
      const patch = join(ROOT, 'mutants', m.patch);
      assert.ok(existsSync(patch), `${m.patch} is missing`);
      const check = spawnSync('git', ['apply', '--check', patch], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(check.status, 0, `${m.patch} no longer applies: ${check.stderr}`);
      if ('tests' in m.caughtBy)
        for (const t of m.caughtBy.tests) assert.ok(existsSync(join(ROOT, t)), `${t} does not exist`);
      else if ('script' in m.caughtBy)
        assert.ok(existsSync(join(ROOT, m.caughtBy.script)), m.caughtBy.script);
      else assert.ok(existsSync(join(ROOT, 'scenarios', `${m.caughtBy.scenario}.json`)), m.caughtBy.scenario);
    });
  }
});

describe('judging a mutant by its tests', () => {
  const report = (r: unknown) => {
    const file = join(mkdtempSync(join(tmpdir(), 'mutant-judge-')), 'report.json');
    writeFileSync(file, JSON.stringify(r));
    return file;
  };

  it('kills it when a test fails, lets it survive when all pass, and judges nothing when only a hook failed or no report was written', () => {
    assert.equal(
      judgedByTests(
        report({ stats: { tests: 3 }, failures: [{ fullTitle: 'the page the place moves live' }] }),
      ),
      1,
    );
    assert.equal(judgedByTests(report({ stats: { tests: 3 }, failures: [] })), 0);
    assert.equal(
      judgedByTests(
        report({
          stats: { tests: 0 },
          failures: [{ fullTitle: 'web: a fan "before all" hook for "books"' }],
        }),
      ),
      -1,
      'a stack that could not start is not a kill',
    );
    assert.equal(judgedByTests(join(tmpdir(), 'no-such-report.json')), -1);
    assert.equal(judgedByTests(report({ stats: { tests: 0 }, failures: [] })), -1);
  });
});
