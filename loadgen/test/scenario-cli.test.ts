import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const CLI = 'loadgen/src/cli.ts';

describe('the scenario command', () => {
  it('refuses, before starting anything, a crowd its heap cannot hold, saying what to set', () => {
    // A million fans peaked at 3.4 GB of the generator's heap: with 256 MB the run would die of it mid-sale.
    const r = spawnSync(process.execPath, ['--max-old-space-size=256', CLI, 'million'], {
      encoding: 'utf8',
      // Without the refusal it would start a stack and a million fans: stopped here, and failed below.
      timeout: 20_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /1000000 fans need about \d+ MiB of the generator's heap, and it may use \d+/);
    assert.match(r.stderr, /NODE_OPTIONS=--max-old-space-size=\d+/);
    assert.doesNotMatch(r.stdout, /started account-service/);
  });

  it('lets a crowd through whose heap fits: the refusal is about the heap, not the size', () => {
    // 100,000 fans need about 912 MiB: with 1 GiB the command goes on, to the bad target it was given.
    const r = spawnSync(
      process.execPath,
      ['--max-old-space-size=1024', CLI, 'million', '--scale', '0.1', '--target', 'not-a-url'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(r.status, 2);
    assert.doesNotMatch(r.stderr, /heap/);
    assert.match(r.stderr, /target/);
  });
});
