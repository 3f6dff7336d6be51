// npm test: the real servers come from testcontainers when a Docker engine answers, otherwise from the
// local-mode infra (npm run infra:up). Either way nothing is mocked. Extra arguments go to mocha.
import { spawnSync } from 'node:child_process';
import { CHROMIUM_PATHS, dockerEngineReachable, ensurePackage } from '@reservex/stack';

const args = process.argv.slice(2);
const useContainers = process.env.RESERVEX_INFRA_MODE !== 'local' && dockerEngineReachable();

if (!useContainers) {
  const infra = spawnSync(process.execPath, ['stack/src/infra/cli.ts', 'up', '--quiet'], {
    stdio: 'inherit',
  });
  if (infra.status !== 0) {
    console.error('test: the local infrastructure did not come up; read the logs under .infra/logs/');
    process.exit(infra.status ?? 1);
  }
}

// The HTML report test renders in headless Chromium, from the OS package like the rest of local mode.
try {
  ensurePackage(CHROMIUM_PATHS, ['chromium'], (m) => console.log(`test: ${m}`));
} catch (error) {
  console.error(`test: ${(error as Error).message}`);
  process.exit(1);
}

// A Korean font, so the screenshots of the Korean page (reports/web/) show text rather than boxes. The tests
// read the DOM, not the pixels: without the font they still pass, and the screenshots say less.
try {
  ensurePackage(['/usr/share/fonts/truetype/nanum'], ['fonts-nanum'], (m) => console.log(`test: ${m}`));
} catch (error) {
  console.warn(`test: no Korean font, the Korean screenshots will show boxes (${(error as Error).message})`);
}

const mocha = spawnSync(process.execPath, ['node_modules/mocha/bin/mocha.js', ...args], {
  stdio: 'inherit',
  env: { ...process.env, RESERVEX_TEST_INFRA: useContainers ? 'testcontainers' : 'local' },
});
process.exit(mocha.status ?? 1);
