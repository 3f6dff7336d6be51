// Tools the project builds from their Go modules (the Go module proxy is reachable, download sites are not):
// built once per version and Go version, cached outside the clone, so a fresh clone on the same machine reuses them.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface GoTool {
  /** What the binary is called here. */
  name: string;
  /** The main package, as `go install` takes it. */
  pkg: string;
  version: string;
  /** The name `go install` gives the binary (the last element of the package path). */
  builtAs: string;
}

export const TOXIPROXY: GoTool = {
  name: 'toxiproxy-server',
  pkg: 'github.com/Shopify/toxiproxy/v2/cmd/server',
  version: 'v2.5.0',
  builtAs: 'server',
};

export function cacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'reservex');
}

/** The tool's binary, built first if this machine has not built this version yet. */
export function goTool(tool: GoTool, log: (m: string) => void = () => {}): string {
  const go = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  if (go.status !== 0) throw new Error(`Go is needed to build ${tool.name} (the Debian package golang)`);
  const binary = join(cacheDir(), `${tool.name}-${tool.version}-${go.stdout.trim()}`);
  if (existsSync(binary)) return binary;
  const work = join(cacheDir(), `build-${tool.name}-${process.pid}`);
  mkdirSync(work, { recursive: true });
  log(`building ${tool.name} ${tool.version} from its Go module (once per machine)`);
  const started = Date.now();
  execFileSync('go', ['install', '-trimpath', `${tool.pkg}@${tool.version}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOBIN: work, CGO_ENABLED: '0' },
  });
  renameSync(join(work, tool.builtAs), binary);
  log(`built ${tool.name} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return binary;
}

/** Copies a cached tool next to the caller's files, for scripts that want a fixed path. */
export function placeTool(tool: GoTool, destination: string): void {
  copyFileSync(goTool(tool), destination);
}
