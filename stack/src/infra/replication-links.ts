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

/**
 * The delaying link through which the other nodes replicate from `node`, when PG_LINK_DELAY_MS asks for one. It
 * belongs to the node: what it holds is WAL that has left PostgreSQL but not yet reached a standby, and it dies
 * with the node (`loseLink`), as a dead machine's unsent WAL does.
 */
export async function startLink(s: InfraSettings, c: PgCluster, node: PgNode): Promise<void> {
  if (c.linkDelayMs === 0) return;
  const proc = linkProcess(s, node);
  if (runningPid(proc) !== undefined) return;
  await assertPortFree(proc, node.linkPort, 'PG_PORT (its replication links listen on PG_PORT + 11 … + 13)');
  startDetached(proc, process.execPath, [
    join(import.meta.dirname, 'link-delay.ts'),
    String(node.linkPort),
    String(node.port),
    String(c.linkDelayMs),
  ]);
  await waitUntil(proc, `listening on ${node.linkPort}`, () => isPortOpen(node.linkPort), 10_000);
}

/** The link of a lost node, killed with whatever it was still carrying. */
export function loseLink(s: InfraSettings, node: PgNode) {
  return stopProcess(linkProcess(s, node), 0, 'SIGKILL');
}

export async function stopLinks(s: InfraSettings, c: PgCluster): Promise<void> {
  for (const node of c.nodes) await stopProcess(linkProcess(s, node));
}
