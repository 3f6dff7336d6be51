// npm run k6:build — k6 at the version pinned in loadgen/k6/build/go.mod, built with Go the way xk6 builds it
// (a main package that runs k6's command with the extensions imported). The xk6 tool is not on the Go module
// proxy this project can reach, so this does its job directly. The binary is cached per version and Go version
// outside the clone, so a fresh clone on the same machine builds once.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BUILD_DIR = join(ROOT, 'loadgen', 'k6', 'build');
export const K6_BIN = join(ROOT, 'loadgen', 'k6', 'bin', 'k6');

export function pinnedK6Version(): string {
  const mod = readFileSync(join(BUILD_DIR, 'go.mod'), 'utf8');
  const m = /go\.k6\.io\/k6 (v\S+)/.exec(mod);
  if (m === null) throw new Error('loadgen/k6/build/go.mod does not pin go.k6.io/k6');
  return m[1]!;
}

export function buildK6(log: (m: string) => void = console.log): string {
  const go = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  if (go.status !== 0)
    throw new Error('Go is needed to build k6 (https://go.dev/dl/, or the Debian package golang)');
  const version = pinnedK6Version();
  const cacheDir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'reservex');
  const cached = join(cacheDir, `k6-${version}-${go.stdout.trim()}`);
  if (!existsSync(cached)) {
    log(`building k6 ${version} with ${go.stdout.trim()} (a few minutes the first time)`);
    mkdirSync(cacheDir, { recursive: true });
    const started = Date.now();
    execFileSync('go', ['build', '-mod=readonly', '-trimpath', '-o', cached, '.'], {
      cwd: BUILD_DIR,
      stdio: 'inherit',
      env: { ...process.env, CGO_ENABLED: '0' },
    });
    log(`built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  mkdirSync(join(ROOT, 'loadgen', 'k6', 'bin'), { recursive: true });
  copyFileSync(cached, K6_BIN);
  const v = execFileSync(K6_BIN, ['version'], { encoding: 'utf8' }).trim();
  log(`${K6_BIN}: ${v}`);
  return K6_BIN;
}

if (import.meta.main) {
  try {
    buildK6();
  } catch (error) {
    console.error(`k6:build failed: ${(error as Error).message}`);
    process.exit(1);
  }
}
