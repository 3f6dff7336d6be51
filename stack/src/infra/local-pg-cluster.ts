import { chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startRouter } from './ha-router.ts';
import { startEtcd, stopEtcd } from './local-etcd.ts';
import { postgresBinDir, provisionDatabases, serverAccount } from './local-postgres.ts';
import { ensurePackage } from './os-packages.ts';
import { patroniDynamicConfig, patroniNodeConfig } from './patroni-config.ts';
import {
  clusterOf,
  clusterSuperuser,
  describeMember,
  type PgNode,
  patroniAnswers,
  pgMembers,
  pgPrimary,
  reconcileDynamicConfig,
} from './patroni-rest.ts';
import {
  assertPortFree,
  InfraError,
  isAlive,
  managed,
  runningPid,
  startDetached,
  stopProcess,
  waitUntil,
} from './processes.ts';
import { loseLink, startLink, stopLinks } from './replication-links.ts';
import type { InfraSettings } from './settings.ts';

export function patroniProcess(s: InfraSettings, node: PgNode) {
  return managed(s.stateDir, `patroni-${node.name}`);
}

function clusterDir(s: InfraSettings) {
  return join(s.stateDir, 'data', 'pg-cluster');
}

function nodePaths(s: InfraSettings, node: PgNode) {
  const run = join(s.stateDir, 'run', 'pg-cluster');
  return {
    dataDir: join(clusterDir(s), node.name),
    socketDir: join(run, `${node.name}-socket`),
    pgpass: join(run, `${node.name}.pgpass`),
    config: join(run, `${node.name}.yml`),
  };
}

/** Directories the postgres account owns: as root, PostgreSQL and Patroni run as that account. */
function ownedDir(path: string, account: { uid?: number; gid?: number }) {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (account.uid !== undefined) chownSync(path, account.uid, account.gid ?? account.uid);
}

/**
 * Starts one node's Patroni, which starts its PostgreSQL: the first node with an empty cluster runs initdb, every
 * other one (a lost node coming back included) clones the primary with pg_basebackup and follows it.
 */
export async function startPatroniNode(s: InfraSettings, node: PgNode): Promise<void> {
  const c = clusterOf(s);
  const proc = patroniProcess(s, node);
  if (runningPid(proc) !== undefined) return;
  const bin = postgresBinDir();
  if (bin === undefined)
    throw new InfraError('PostgreSQL server binaries not found under /usr/lib/postgresql');
  await assertPortFree(proc, node.port, 'PG_PORT (its nodes listen on PG_PORT + 1 … + 3)');
  await assertPortFree(proc, node.restPort, 'PATRONI_PORT');
  const account = serverAccount();
  const paths = nodePaths(s, node);
  mkdirSync(join(s.stateDir, 'data'), { recursive: true });
  ownedDir(clusterDir(s), account);
  ownedDir(join(s.stateDir, 'run', 'pg-cluster'), account);
  ownedDir(paths.socketDir, account);
  writeFileSync(
    paths.config,
    patroniNodeConfig(c, node, { ...paths, binDir: bin }, s.postgres.synchronousCommit),
    { mode: 0o600 },
  );
  if (account.uid !== undefined) chownSync(paths.config, account.uid, account.gid ?? account.uid);
  await startLink(s, c, node);
  startDetached(proc, '/usr/bin/patroni', [paths.config], { ...account, cwd: clusterDir(s) });
  await waitUntil(proc, 'its REST API', () => patroniAnswers(node), 30_000);
}

/**
 * Brings the cluster up: etcd, the three Patronis, the router on PG_PORT, the service role and databases; and
 * waits for a synchronous standby, so that a sale never starts on a primary that acknowledges alone.
 */
export async function startPgCluster(s: InfraSettings, log: (m: string) => void): Promise<void> {
  const c = clusterOf(s);
  ensurePackage(['/usr/lib/postgresql'], ['postgresql'], log);
  ensurePackage(['/usr/bin/patroni'], ['patroni'], log);
  await startEtcd(s, c, log);
  for (const node of c.nodes) {
    if (runningPid(patroniProcess(s, node)) === undefined) log(`starting Patroni node ${node.name}`);
    await startPatroniNode(s, node);
  }
  const primary = await waitFor('a primary', 120_000, () => pgPrimary(s));
  await reconcileDynamicConfig(s, c, primary, log);
  await startRouter(s, log);
  const superuser = clusterSuperuser(s);
  await waitFor('the primary through the router', 30_000, async () => {
    const client = new pg.Client({ ...superuser, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      const { rows } = await client.query('SELECT pg_is_in_recovery() AS standby');
      return rows[0]?.standby === false ? true : undefined;
    } catch {
      return undefined;
    } finally {
      await client.end().catch(() => {});
    }
  });
  await provisionDatabases(superuser, s);
  await waitForStandbys(s, log);
}

/** Every node streams from the primary, one of them synchronously when asked for. */
export async function waitForStandbys(s: InfraSettings, log: (m: string) => void): Promise<void> {
  const c = clusterOf(s);
  await waitFor('every standby streaming', 180_000, async () => {
    const members = await pgMembers(s);
    const standbys = members.filter(
      (m) => m.role !== 'leader' && (m.state === 'running' || m.state === 'streaming'),
    );
    const synchronous = members.some((m) => m.role === 'sync_standby');
    // As the cluster is configured to be (its dynamic configuration), which is what Patroni acts on.
    const wanted = patroniDynamicConfig(c, s.postgres.synchronousCommit).synchronous_mode;
    return standbys.length === c.nodes.length - 1 && (synchronous || !wanted) ? true : undefined;
  });
  log(`PostgreSQL cluster: ${(await pgMembers(s)).map(describeMember).join(', ')}`);
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await probe().catch(() => undefined);
    if (found !== undefined) return found;
    await sleep(500);
  }
  throw new InfraError(
    `the PostgreSQL cluster did not reach "${what}" within ${timeoutMs / 1000}s; read the patroni-*.log files`,
  );
}

/**
 * A node lost as a machine is: its Patroni and its PostgreSQL (which Patroni starts in a process group of its
 * own) killed with SIGKILL at once, and its data directory deleted, as the disk of a dead machine is gone with it.
 */
export async function loseNode(s: InfraSettings, node: PgNode): Promise<void> {
  const paths = nodePaths(s, node);
  const postmaster = postmasterPid(paths.dataDir);
  const patroni = runningPid(patroniProcess(s, node));
  // Patroni starts PostgreSQL in a process group of its own, led by a helper rather than the postmaster.
  const groups = new Set(
    [patroni, postmaster].flatMap((pid) => (pid === undefined ? [] : [processGroup(pid)])),
  );
  for (const group of groups) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {}
  }
  await loseLink(s, node);
  const deadline = Date.now() + 30_000;
  while ([patroni, postmaster].some((p) => p !== undefined && isAlive(p)) && Date.now() < deadline)
    await sleep(50);
  // Backends die with their postmaster; give them the moment it takes before the directory goes.
  await sleep(300);
  rmSync(paths.dataDir, { recursive: true, force: true });
}

/** The process group of `pid` (the fifth field of /proc/PID/stat, after the parenthesised command name). */
function processGroup(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    return Number.isInteger(group) && group > 0 ? group : pid;
  } catch {
    return pid;
  }
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Patroni stops its PostgreSQL cleanly on SIGTERM (a fast shutdown), then etcd goes. */
export async function stopPgCluster(s: InfraSettings): Promise<void> {
  const c = clusterOf(s);
  // Replicas first, so the primary does not wait on a synchronous standby that is going away.
  const primary = await pgPrimary(s).catch(() => undefined);
  const order = [...c.nodes.filter((n) => n !== primary), ...(primary === undefined ? [] : [primary])];
  for (const node of order) await stopProcess(patroniProcess(s, node), 60_000, 'SIGTERM');
  await stopLinks(s, c);
  await stopEtcd(s);
}
