// Tools the project installs from PyPI (reachable here, unlike most download sites): each in its own virtual
// environment, once per version and Python version, cached outside the clone like the Go tools.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePackage } from '../infra/os-packages.ts';
import { cacheDir } from './go-tool.ts';

export interface PythonTool {
  /** The console script the package installs. */
  name: string;
  /** The distribution on PyPI. */
  dist: string;
  version: string;
}

export const SCHEMATHESIS: PythonTool = { name: 'schemathesis', dist: 'schemathesis', version: '4.32.5' };

/** The tool's executable, installed first if this machine has not installed this version yet. */
export function pythonTool(tool: PythonTool, log: (m: string) => void = () => {}): string {
  const probe = () =>
    spawnSync('python3', ['-c', 'import sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2])'], {
      encoding: 'utf8',
    });
  let python = probe();
  if (python.status !== 0) {
    // Debian ships venv without ensurepip unless python3-venv is installed: as root, install it like any package.
    ensurePackage(['/usr/share/doc/python3-venv'], ['python3', 'python3-venv'], log);
    python = probe();
  }
  if (python.status !== 0) {
    throw new Error(`Python 3 with venv is needed to install ${tool.name} (the Debian package python3-venv)`);
  }
  const env = join(cacheDir(), `${tool.name}-${tool.version}-py${python.stdout.trim()}`);
  const executable = join(env, 'bin', tool.name);
  // A virtual environment records its own path, so it is built in place; the marker says the install finished.
  const complete = join(env, '.reservex-complete');
  if (existsSync(complete)) return executable;
  rmSync(env, { recursive: true, force: true });
  log(`installing ${tool.dist} ${tool.version} from PyPI (once per machine)`);
  const started = Date.now();
  execFileSync('python3', ['-m', 'venv', env], { stdio: 'inherit' });
  execFileSync(
    join(env, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', `${tool.dist}==${tool.version}`],
    { stdio: 'inherit' },
  );
  writeFileSync(complete, `${tool.dist}==${tool.version}\n`);
  log(`installed ${tool.name} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return executable;
}
