import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const reaper = fileURLToPath(new URL('../src/child-reaper.ts', import.meta.url));

/** A stand-in for the generator: starts a long-lived child (a service) and says its pid. */
function generator(reaped: boolean) {
  const script = `
    import { spawn } from 'node:child_process';
    import { endWithThisProcess } from ${JSON.stringify(reaper)};
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    ${reaped ? 'endWithThisProcess(child);' : ''}
    console.log(child.pid);
    setInterval(() => {}, 1000);
  `;
  return spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function serviceAfterSignal(
  reaped: boolean,
): Promise<{ pid: number; aliveAfter: boolean; code: unknown }> {
  const gen = generator(reaped);
  const [line] = (await once(gen.stdout!, 'data')) as [Buffer];
  const pid = Number(line.toString().trim());
  assert.ok(alive(pid), 'the service started');
  gen.kill('SIGINT');
  const [code] = await once(gen, 'exit');
  const until = Date.now() + 5000;
  while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  const aliveAfter = alive(pid);
  if (aliveAfter) process.kill(pid, 'SIGKILL');
  return { pid, aliveAfter, code };
}

describe('the processes a run starts', () => {
  it('end with the generator when a signal stops it alone, not its process group', async function () {
    this.timeout(20_000);
    const reaped = await serviceAfterSignal(true);
    assert.equal(reaped.aliveAfter, false, `service ${reaped.pid} outlived the generator`);
    assert.equal(reaped.code, 130);
    // The check can fail: a child the reaper was not told about lives on.
    const orphan = await serviceAfterSignal(false);
    assert.equal(orphan.aliveAfter, true, 'an unreaped child should have outlived its parent');
  });
});
