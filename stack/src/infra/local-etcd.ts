import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePackage } from './os-packages.ts';
import { assertPortFree, managed, runningPid, startDetached, stopProcess, waitUntil } from './processes.ts';
import type { InfraSettings, PgCluster } from './settings.ts';

export function etcdProcess(s: InfraSettings) {
  return managed(s.stateDir, 'etcd');
}

/** One etcd member, Patroni's store of who leads and of the cluster's configuration. */
export async function startEtcd(s: InfraSettings, c: PgCluster, log: (m: string) => void): Promise<void> {
  const proc = etcdProcess(s);
  if (runningPid(proc) !== undefined) return;
  ensurePackage(['/usr/bin/etcd'], ['etcd-server'], log);
  await assertPortFree(proc, c.etcd.clientPort, 'ETCD_PORT');
  const client = `http://127.0.0.1:${c.etcd.clientPort}`;
  const peer = `http://127.0.0.1:${c.etcd.peerPort}`;
  const dataDir = join(s.stateDir, 'data', 'etcd');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  startDetached(proc, '/usr/bin/etcd', [
    '--name',
    'reservex-dcs',
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    client,
    '--advertise-client-urls',
    client,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `reservex-dcs=${peer}`,
  ]);
  await waitUntil(
    proc,
    '/health',
    async () => (await fetch(`${client}/health`, { signal: AbortSignal.timeout(2000) })).ok,
    30_000,
  );
}

export function stopEtcd(s: InfraSettings) {
  return stopProcess(etcdProcess(s));
}
