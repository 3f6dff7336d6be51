import { patroniDynamicConfig } from './patroni-config.ts';
import { InfraError } from './processes.ts';
import type { InfraSettings, PgCluster } from './settings.ts';

export type PgNode = PgCluster['nodes'][number];

/** What Patroni says of one member: `leader`, `sync_standby` or `replica`, and its state. */
export interface PgMember {
  name: string;
  role: string;
  state: string;
  timeline?: number;
  lag?: number | string;
}

export function clusterOf(s: InfraSettings): PgCluster {
  if (s.postgres.cluster === undefined)
    throw new InfraError('PostgreSQL is not run as a cluster (PG_CLUSTER=3)');
  return s.postgres.cluster;
}

/** The cluster's superuser, through the router: whichever node is the primary now. */
export function clusterSuperuser(s: InfraSettings) {
  return {
    host: '127.0.0.1',
    port: s.postgres.port,
    user: 'postgres',
    password: clusterOf(s).superuserPassword,
    database: 'postgres',
  };
}

export async function patroniAnswers(node: PgNode): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${node.restPort}/health`, { signal: AbortSignal.timeout(2000) });
  await res.body?.cancel();
  return res.status > 0;
}

/** The members as the first Patroni that answers sees them (its /cluster), or none when none answers. */
export async function pgMembers(s: InfraSettings): Promise<PgMember[]> {
  for (const node of clusterOf(s).nodes) {
    try {
      const res = await fetch(`http://127.0.0.1:${node.restPort}/cluster`, {
        signal: AbortSignal.timeout(2000),
      });
      if (!res.ok) continue;
      const body = (await res.json()) as { members?: PgMember[] };
      return (body.members ?? []).map((m) => ({
        name: m.name,
        role: m.role,
        state: m.state,
        ...(m.timeline === undefined ? {} : { timeline: m.timeline }),
        ...(m.lag === undefined ? {} : { lag: m.lag }),
      }));
    } catch {}
  }
  return [];
}

/** The node Patroni holds as the primary now, if any. */
export async function pgPrimary(s: InfraSettings): Promise<PgNode | undefined> {
  const leader = (await pgMembers(s)).find((m) => m.role === 'leader' && m.state === 'running');
  return clusterOf(s).nodes.find((n) => n.name === leader?.name);
}

export function describeMember(m: PgMember): string {
  return `${m.name} ${m.role} ${m.state}${m.timeline === undefined ? '' : ` (timeline ${m.timeline})`}`;
}

/**
 * Settings kept in etcd outlive the configuration files that first wrote them: the ones this run asks for are
 * set through Patroni's REST API when they differ, so switching PG_UNSAFE_ASYNC_STANDBY takes effect at once.
 */
export async function reconcileDynamicConfig(
  s: InfraSettings,
  c: PgCluster,
  primary: PgNode,
  log: (m: string) => void,
): Promise<void> {
  const url = `http://127.0.0.1:${primary.restPort}/config`;
  const current = (await (await fetch(url, { signal: AbortSignal.timeout(5000) })).json()) as {
    synchronous_mode?: boolean;
    ignore_slots?: unknown;
    postgresql?: { use_pg_rewind?: boolean; parameters?: { synchronous_commit?: string } };
  };
  const wanted = patroniDynamicConfig(c, s.postgres.synchronousCommit);
  const patch = {
    synchronous_mode: wanted.synchronous_mode,
    ignore_slots: wanted.ignore_slots,
    postgresql: {
      use_pg_rewind: wanted.postgresql.use_pg_rewind,
      parameters: { synchronous_commit: wanted.postgresql.parameters.synchronous_commit },
    },
  };
  const now = {
    synchronous_mode: current.synchronous_mode,
    ignore_slots: current.ignore_slots,
    postgresql: {
      use_pg_rewind: current.postgresql?.use_pg_rewind,
      parameters: { synchronous_commit: current.postgresql?.parameters?.synchronous_commit },
    },
  };
  if (JSON.stringify(now) === JSON.stringify(patch)) return;
  log(
    `setting synchronous_mode=${patch.synchronous_mode}, synchronous_commit=${patch.postgresql.parameters.synchronous_commit} pg_rewind on and the harness's slots left alone, in the cluster's configuration`,
  );
  const res = await fetch(url, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(patch),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new InfraError(`Patroni refused the configuration: ${res.status} ${await res.text()}`);
}
