import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { prometheusReady } from './health.ts';
import { ensurePackage } from './os-packages.ts';
import { assertPortFree, managed, runningPid, startDetached, stopProcess, waitUntil } from './processes.ts';
import type { InfraSettings } from './settings.ts';

export function prometheusProcess(s: InfraSettings) {
  return managed(s.stateDir, 'prometheus');
}

export async function startPrometheus(s: InfraSettings, log: (m: string) => void): Promise<void> {
  const proc = prometheusProcess(s);
  if (runningPid(proc) !== undefined) return;
  ensurePackage(['prometheus', '/usr/bin/prometheus'], ['prometheus'], log);
  await assertPortFree(proc, s.prometheus.port, 'PROMETHEUS_PORT');
  const dataDir = join(s.stateDir, 'data', 'prometheus');
  mkdirSync(dataDir, { recursive: true });
  startDetached(proc, 'prometheus', [
    `--config.file=${join(s.repoRoot, 'prometheus.yml')}`,
    `--storage.tsdb.path=${dataDir}`,
    `--web.listen-address=127.0.0.1:${s.prometheus.port}`,
    '--web.enable-lifecycle',
    '--storage.tsdb.retention.time=7d',
  ]);
  await waitUntil(proc, '/-/ready', () => prometheusReady(s.prometheus.port), 30_000);
}

export function stopPrometheus(s: InfraSettings) {
  return stopProcess(prometheusProcess(s));
}
