import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { InfraError } from './processes.ts';
import type { InfraSettings } from './settings.ts';

export function dockerEngineReachable(): boolean {
  const result = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return result.status === 0 && result.stdout.trim() !== '';
}

export function compose(s: InfraSettings, args: string[]): void {
  const result = spawnSync('docker', ['compose', '-f', join(s.repoRoot, 'docker-compose.yml'), ...args], {
    stdio: s.quiet ? 'pipe' : 'inherit',
    encoding: 'utf8',
    env: { ...process.env, PG_SYNCHRONOUS_COMMIT: s.postgres.synchronousCommit },
  });
  if (result.status !== 0) {
    throw new InfraError(
      `docker compose ${args.join(' ')} failed (exit ${result.status}). ${result.stderr ?? ''}`,
    );
  }
}
