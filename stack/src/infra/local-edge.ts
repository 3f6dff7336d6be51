import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EdgeConfigOptions, edgeConfig } from './edge-config.ts';
import { edgeHealth } from './health.ts';
import { ensurePackage } from './os-packages.ts';
import {
  assertPortFree,
  InfraError,
  managed,
  runningPid,
  startDetached,
  stopProcess,
  waitUntil,
} from './processes.ts';
import type { InfraSettings } from './settings.ts';

const NGINX = '/usr/sbin/nginx';

export function edgeProcess(s: InfraSettings) {
  return managed(s.stateDir, 'edge');
}

/** Everything the edge writes stays in the state directory; its cache under data/, so infra:reset deletes it. */
export function localEdgeOptions(s: InfraSettings): EdgeConfigOptions {
  return {
    listen: `127.0.0.1:${s.edge.port}`,
    origin: edgeOrigin(s.edge.ticketUrl),
    cacheDir: join(s.stateDir, 'data', 'edge'),
    workDir: join(s.stateDir, 'edge'),
    user: process.getuid?.() === 0 ? 'root' : undefined,
  };
}

/**
 * `host:port` of ticket-service's URL. Checked only when the edge starts, so a TICKET_URL the edge cannot front (a
 * remote https target of the load generator) stops nothing else that reads the settings.
 */
function edgeOrigin(ticketUrl: string): string {
  const url = URL.parse(ticketUrl);
  if (url?.protocol !== 'http:')
    throw new InfraError(
      `the edge cache forwards plain HTTP to ticket-service: TICKET_URL must be http://…, got "${ticketUrl}"`,
    );
  return `${url.hostname}:${url.port === '' ? 80 : url.port}`;
}

/**
 * nginx from the OS packages as its own process, not the system service. It needs no origin to start: until
 * ticket-service answers, the edge answers 502.
 */
export async function startEdge(s: InfraSettings, log: (m: string) => void): Promise<void> {
  const proc = edgeProcess(s);
  if (runningPid(proc) !== undefined) return;
  const options = localEdgeOptions(s);
  ensurePackage([NGINX, 'nginx'], ['nginx-light'], log);
  await assertPortFree(proc, s.edge.port, 'EDGE_PORT');
  const config = writeEdgeConfig(options);
  startDetached(proc, nginxBinary(), nginxArgs(options, config));
  await waitUntil(proc, '/edge-health', async () => (await edgeHealth(s.edge.port)).status === 200, 15_000);
}

export function stopEdge(s: InfraSettings) {
  return stopProcess(edgeProcess(s));
}

/** Writes `nginx.conf` into the edge's work directory, creating the directories nginx will not create itself. */
export function writeEdgeConfig(options: EdgeConfigOptions): string {
  mkdirSync(options.workDir, { recursive: true });
  mkdirSync(options.cacheDir, { recursive: true });
  const config = join(options.workDir, 'nginx.conf');
  writeFileSync(config, edgeConfig(options));
  return config;
}

export function nginxBinary(): string {
  return existsSync(NGINX) ? NGINX : 'nginx';
}

/** In the foreground (the pid is the master's), with the work directory as prefix and errors on stderr from the start. */
export function nginxArgs(options: EdgeConfigOptions, config: string): string[] {
  return ['-e', 'stderr', '-p', `${options.workDir}/`, '-c', config, '-g', 'daemon off;'];
}
