import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { injectsFaults } from '../src/report/collapse.ts';
import { checkExpectations, EXPECTATION } from '../src/run/run-facts.ts';
import { listScenarios, loadScenario, ScenarioError, scaleScenario } from '../src/scenario.ts';

const README = readFileSync(resolve(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
const RESILIENCE = readFileSync(resolve(import.meta.dirname, '..', '..', 'docs', 'resilience.md'), 'utf8');

describe('the scenario files', () => {
  for (const name of listScenarios()) {
    it(`${name} is valid, scales to CI's 0.1 with bounds that still mean something, and is in the README`, () => {
      const s = loadScenario(name);
      assert.equal(s.name, name, 'the file name and the scenario name agree');
      const small = scaleScenario(s, 0.1);
      for (const [fact, bound] of Object.entries(small.expect)) {
        const [, op, n, of] = EXPECTATION.exec(bound!) ?? [];
        assert.ok(op !== undefined, `${fact}: ${bound}`);
        if (op!.startsWith('>'))
          assert.ok(
            of === undefined ? Number(n) >= 1 : Number(n) > 0,
            `${fact} ${bound} asks for nothing at 0.1`,
          );
      }
      assert.match(README, new RegExp(`\\| \`${name}\` \\|`), `${name} is missing from the README's table`);
    });
  }

  it('every scenario that injects faults states its own collapse bounds, and docs/resilience.md gives the same with a reason', () => {
    const faulty = listScenarios().filter((name) => injectsFaults(loadScenario(name)));
    assert.ok(faulty.includes('crash-services') && faulty.includes('replica-churn'));
    for (const name of faulty) {
      const { minFansServed, maxWastedCaptureRatio } = loadScenario(name).thresholds;
      assert.ok(
        minFansServed !== undefined && maxWastedCaptureRatio !== undefined,
        `${name} states no bounds`,
      );
      const row = new RegExp(
        `\\| \`${name}\` \\| ${minFansServed} \\| ${maxWastedCaptureRatio} \\| [^|]{20,} \\|`,
      );
      assert.match(
        RESILIENCE,
        row,
        `${name}: docs/resilience.md has no row "| \`${name}\` | ${minFansServed} | ${maxWastedCaptureRatio} | why |"`,
      );
    }
  });

  it('a larger crowd behind the same waiting-room rate gets a proportionally longer sale; a smaller one keeps its time', () => {
    const s = loadScenario('flash-sale');
    assert.ok(s.queue !== undefined);
    const stadium = scaleScenario(s, 10);
    assert.equal(stadium.users, s.users * 10);
    assert.equal(stadium.durationSeconds, s.durationSeconds * 10);
    assert.equal(stadium.queue?.admitPerSecond, s.queue.admitPerSecond, 'the operator’s rate is not scaled');
    assert.equal(scaleScenario(s, 0.1).durationSeconds, s.durationSeconds);
    // Without a waiting room, fans do not wait their turn: the sale is as long at any size.
    assert.equal(
      scaleScenario(loadScenario('hot-seat-open'), 10).durationSeconds,
      loadScenario('hot-seat-open').durationSeconds,
    );
  });

  it('an expectation may be a share of another fact: judged against that fact, the same at every scale', () => {
    const expect = { lateCaptures: '>= 0.1 * reservations', expiredHolds: '>= 20' } as const;
    const [share, count] = checkExpectations(expect, {
      lateCaptures: 12,
      reservations: 100,
      expiredHolds: 20,
    });
    assert.equal(share?.pass, true);
    assert.equal(count?.pass, true);
    assert.equal(checkExpectations(expect, { lateCaptures: 9, reservations: 100 })[0]?.pass, false);
    assert.equal(checkExpectations(expect, { lateCaptures: 12 })[0]?.pass, false, 'the other fact unknown');
    const scaled = scaleScenario({ ...loadScenario('hold-expiry-race'), expect }, 0.1).expect;
    assert.equal(scaled.lateCaptures, '>= 0.1 * reservations');
    assert.equal(scaled.expiredHolds, '>= 2');
  });

  it('refuses a scenario with an unknown fact or a malformed bound, naming the field', () => {
    const file = join(tmpdir(), `bad-scenario-${process.pid}.json`);
    const s = JSON.parse(
      readFileSync(resolve(import.meta.dirname, '..', '..', 'scenarios', 'hot-seat.json'), 'utf8'),
    );
    writeFileSync(
      file,
      JSON.stringify({
        ...s,
        expect: { expiredHolds: 'lots', soldOutFast: '>= 1', lateCaptures: '>= 0.1 * luck' },
      }),
    );
    assert.throws(
      () => loadScenario(file),
      (e: Error) =>
        e instanceof ScenarioError &&
        /expect\.expiredHolds: like ">= 20"/.test(e.message) &&
        /expect\.lateCaptures: a share of a fact the run does not have/.test(e.message) &&
        /expect/.test(e.message),
    );
  });
});
