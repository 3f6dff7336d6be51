import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** Runs the import check of `npm run lint` on the given files; its exit status and what it printed. */
function importCheck(files: string[]) {
  const run = spawnSync(
    join(ROOT, 'node_modules', '.bin', 'depcruise'),
    ['--config', '.dependency-cruiser.cjs', ...files],
    { cwd: ROOT, encoding: 'utf8' },
  );
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** A file written into the tree for one check, and removed after it whatever happens. */
function withSeeded<T>(files: Record<string, string>, check: () => T): T {
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(ROOT, path)), { recursive: true });
      writeFileSync(join(ROOT, path), text);
    }
    return check();
  } finally {
    for (const path of Object.keys(files)) rmSync(join(ROOT, path), { force: true });
  }
}

describe('the import check in npm run lint (dependency-cruiser, .dependency-cruiser.cjs)', () => {
  it('passes the tree as it is: every arrow points one way', () => {
    const { status, output } = importCheck(['system', 'stack', 'loadgen', 'scripts', 'test', 'web']);
    assert.equal(status, 0, output);
  });

  it('fails a seeded wrong-way import of each kind, naming the rule', () => {
    const seeded = {
      'system/kit/src/seeded-up.ts':
        "export { checkInvariants } from '../../../loadgen/src/invariants/index.ts';\n",
      'system/payment-service/src/seeded-sibling.ts':
        "export { bookSeats } from '../../ticket-service/src/use-cases/book-seats.ts';\n",
      'system/ticket-service/src/domain/seeded-impure.ts':
        "export { lockReservation } from '../store/reservations.ts';\n",
      'stack/src/seeded-up.ts': "export { runScenario } from '../../loadgen/src/run/run-scenario.ts';\n",
      'test/seeded-back-door.ts':
        "export { createTicketService } from '../system/ticket-service/src/service.ts';\n",
    };
    withSeeded(seeded, () => {
      const { status, output } = importCheck(Object.keys(seeded));
      assert.notEqual(status, 0, output);
      for (const rule of [
        'system-below-everything',
        'no-service-imports-another',
        'domain-is-pure',
        'stack-below-harness',
        'front-door',
      ])
        assert.match(output, new RegExp(`error ${rule}:`), `${rule} did not fire:\n${output}`);
    });
  });
});
