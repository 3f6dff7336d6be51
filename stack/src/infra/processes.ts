import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export class InfraError extends Error {}

export function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface ManagedProcess {
  name: string;
  pidFile: string;
  logFile: string;
}

export function managed(stateDir: string, name: string): ManagedProcess {
  return {
    name,
    pidFile: join(stateDir, 'run', `${name}.pid`),
    logFile: join(stateDir, 'logs', `${name}.log`),
  };
}

export function runningPid(proc: ManagedProcess): number | undefined {
  if (!existsSync(proc.pidFile)) return undefined;
  const pid = Number(readFileSync(proc.pidFile, 'utf8').trim());
  return Number.isInteger(pid) && isAlive(pid) ? pid : undefined;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  cwd?: string;
}

/** Starts a long-lived server detached from this CLI, output appended to its log file. */
export function startDetached(
  proc: ManagedProcess,
  command: string,
  args: string[],
  options: StartOptions = {},
) {
  mkdirSync(dirname(proc.pidFile), { recursive: true });
  mkdirSync(dirname(proc.logFile), { recursive: true });
  const log = openSync(proc.logFile, 'a');
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: options.env ?? process.env,
    cwd: options.cwd,
    uid: options.uid,
    gid: options.gid,
  });
  closeSync(log);
  if (child.pid === undefined)
    throw new InfraError(`could not start ${proc.name} (${command}); see ${proc.logFile}`);
  child.unref();
  writeFileSync(proc.pidFile, `${child.pid}\n`);
  return child.pid;
}

export async function stopProcess(
  proc: ManagedProcess,
  graceMs = 20_000,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<boolean> {
  const pid = runningPid(proc);
  if (pid === undefined) {
    rmSync(proc.pidFile, { force: true });
    return false;
  }
  process.kill(pid, signal);
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(proc.pidFile, { force: true });
  return true;
}

/** Polls `probe` until it returns true, the process dies, or the deadline passes. */
export async function waitUntil(
  proc: ManagedProcess,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    if (runningPid(proc) === undefined) {
      throw new InfraError(`${proc.name} exited while starting (${what}); read ${proc.logFile}`);
    }
    await sleep(250);
  }
  throw new InfraError(
    `${proc.name} did not become ready within ${timeoutMs / 1000}s (${what}); read ${proc.logFile}`,
  );
}

export async function assertPortFree(proc: ManagedProcess, port: number, variable: string): Promise<void> {
  if (await isPortOpen(port)) {
    throw new InfraError(
      `${proc.name}: port ${port} is already taken by another process. Stop it, or choose another port with ${variable}=<port>. (log: ${proc.logFile})`,
    );
  }
}
