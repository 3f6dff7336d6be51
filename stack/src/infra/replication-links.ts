import { join } from 'node:path';
import {
  assertPortFree,
  isPortOpen,
  managed,
  runningPid,
  startDetached,
  stopProcess,
  waitUntil,
} from './processes.ts';
import type { InfraSettings, PgCluster } from './settings.ts';

type PgNode = PgCluster['nodes'][number];

function linkProcess(s: InfraSettings, node: PgNode) {
  return managed(s.stateDir, `pg-link-${node.name}`);
}

/** The delaying replication link in front of each node, when PG_LINK_DELAY_MS asks for one. */
export async function startLinks(s: InfraSettings, c: PgCluster): Promise<void> {
  if (c.linkDelayMs === 0) return;
  const script = join(import.meta.dirname, 'link-delay.ts');
  for (const node of c.nodes) {
    const proc = linkProcess(s, node);
    if (runningPid(proc) !== undefined) continue;
    await assertPortFree(
      proc,
      node.linkPort,
      'PG_PORT (its replication links listen on PG_PORT + 11 … + 13)',
    );
    startDetached(proc, process.execPath, [
      script,
      String(node.linkPort),
      String(node.port),
      String(c.linkDelayMs),
    ]);
    await waitUntil(proc, `listening on ${node.linkPort}`, () => isPortOpen(node.linkPort), 10_000);
  }
}

export async function stopLinks(s: InfraSettings, c: PgCluster): Promise<void> {
  for (const node of c.nodes) await stopProcess(linkProcess(s, node));
}
