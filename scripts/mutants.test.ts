import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadCatalogue } from './mutants.ts';

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
