import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { InfraError } from './processes.ts';

export function onPath(command: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const found = result.stdout.trim();
  return result.status === 0 && found !== '' ? found : undefined;
}

let aptUpdated = false;

/**
 * Installs Debian packages when the binary is missing. As root with apt-get this just happens;
 * anywhere else it stops with a message that says what to install, because sudo prompts would hang CI.
 */
export function ensurePackage(
  binaryPaths: readonly string[],
  aptPackages: readonly string[],
  log: (m: string) => void,
) {
  if (binaryPaths.some((path) => (path.startsWith('/') ? existsSync(path) : onPath(path) !== undefined)))
    return;
  const canApt = process.getuid?.() === 0 && onPath('apt-get') !== undefined;
  if (!canApt) {
    throw new InfraError(
      `missing ${binaryPaths.join(' or ')}. Install the OS package(s): ${aptPackages.join(' ')} (for example: sudo apt-get install ${aptPackages.join(' ')}), or use Docker mode.`,
    );
  }
  log(`installing ${aptPackages.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    if (!aptUpdated) {
      execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'pipe' });
      aptUpdated = true;
    }
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...aptPackages], {
      env,
      stdio: 'pipe',
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    throw new InfraError(`apt-get install ${aptPackages.join(' ')} failed:\n${stderr.slice(-2000)}`);
  }
}
