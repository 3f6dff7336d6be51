import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
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

export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(base, versions[0], 'bin');
}

/** PostgreSQL refuses to run as root, so as root it runs as the `postgres` user that the OS package creates. */
export function serverAccount(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export function postgresProcess(s: InfraSettings) {
  return managed(s.stateDir, 'postgres');
}

export async function startPostgres(s: InfraSettings, log: (m: string) => void): Promise<void> {
  const proc = postgresProcess(s);
  if (runningPid(proc) !== undefined) {
    // A server started earlier with another durability setting is restarted with the one asked for now.
    const socketDir = join(s.stateDir, 'run', 'pg-socket');
    const running = await serverSettings(socketDir, s.postgres.port);
    if (
      running?.synchronousCommit === s.postgres.synchronousCommit &&
      running.preloaded.includes(STATEMENTS) &&
      running.maxWalSize === MAX_WAL_SIZE &&
      running.walLevel === WAL_LEVEL
    )
      return;
    log(
      `restarting PostgreSQL with synchronous_commit=${s.postgres.synchronousCommit}, ${STATEMENTS}, max_wal_size=${MAX_WAL_SIZE} and wal_level=${WAL_LEVEL}`,
    );
    await stopProcess(proc);
  }
  ensurePackage(['/usr/lib/postgresql'], ['postgresql'], log);
  const bin = postgresBinDir();
  if (bin === undefined)
    throw new InfraError('PostgreSQL server binaries not found under /usr/lib/postgresql');
  await assertPortFree(proc, s.postgres.port, 'PG_PORT');

  const dataDir = join(s.stateDir, 'data', 'postgres');
  const socketDir = join(s.stateDir, 'run', 'pg-socket');
  const account = serverAccount();
  for (const dir of [dataDir, socketDir]) {
    // Only the leaf is private: the postgres account must still be able to walk down to it.
    mkdirSync(dirname(dir), { recursive: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (account.uid !== undefined) chownSync(dir, account.uid, account.gid ?? account.uid);
  }
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log('initialising the PostgreSQL data directory');
    execFileSync(
      join(bin, 'initdb'),
      [
        '-D',
        dataDir,
        '-U',
        'postgres',
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '-E',
        'UTF8',
        '--locale=C',
      ],
      { ...account, stdio: 'pipe' },
    );
  }
  startDetached(
    proc,
    join(bin, 'postgres'),
    [
      '-D',
      dataDir,
      '-p',
      String(s.postgres.port),
      '-k',
      socketDir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=400',
      '-c',
      'shared_buffers=256MB',
      '-c',
      `max_wal_size=${MAX_WAL_SIZE}`,
      // Durable by default: a commit is acknowledged once it is on disk, so a crash of PostgreSQL itself cannot
      // take back a reservation whose message went out and whose offset was committed. Off only when asked for
      // by name (PG_UNSAFE_ASYNC_COMMIT=true), for throwaway benchmarks.
      '-c',
      `synchronous_commit=${s.postgres.synchronousCommit}`,
      // Statement counts per booking for bench:saga's profile; its cost is a hash update per statement.
      '-c',
      `shared_preload_libraries=${STATEMENTS}`,
      // The harness reads a run's changes from the WAL (logical decoding) for its checks; a slot exists only
      // while a run does (loadgen/src/wal). What it adds to the WAL is measured in docs/capacity.md.
      '-c',
      `wal_level=${WAL_LEVEL}`,
    ],
    { ...account, cwd: dataDir },
  );
  await waitUntil(
    proc,
    'accepting connections',
    () => canConnectAsSuperuser(socketDir, s.postgres.port),
    30_000,
  );
  await provisionDatabases(
    { host: socketDir, port: s.postgres.port, user: 'postgres', database: 'postgres' },
    s,
  );
}

const STATEMENTS = 'pg_stat_statements';
/**
 * Checkpoints every few minutes, not forced by WAL volume every 30–50 s of a booking burst (the 1 GB default): the
 * first change to each page after a checkpoint logs the whole page, so each forced one brought a surge of WAL and
 * disk writes, and bench:saga's phase that met one lost its p99 to it. Durability is the same; a crash only
 * replays more WAL on restart.
 */
const MAX_WAL_SIZE = '4GB';
const WAL_LEVEL = 'logical';

async function serverSettings(
  socketDir: string,
  port: number,
): Promise<
  { synchronousCommit: string; preloaded: string; maxWalSize: string; walLevel: string } | undefined
> {
  const client = new pg.Client({ host: socketDir, port, user: 'postgres', database: 'postgres' });
  try {
    await client.connect();
    const { rows } = await client.query(
      "SELECT current_setting('synchronous_commit') AS sc, current_setting('shared_preload_libraries') AS pl, current_setting('max_wal_size') AS wal, current_setting('wal_level') AS level",
    );
    return {
      synchronousCommit: rows[0]?.sc,
      preloaded: rows[0]?.pl ?? '',
      maxWalSize: rows[0]?.wal ?? '',
      walLevel: rows[0]?.level ?? '',
    };
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

async function canConnectAsSuperuser(socketDir: string, port: number): Promise<boolean> {
  const client = new pg.Client({ host: socketDir, port, user: 'postgres', database: 'postgres' });
  try {
    await client.connect();
    return true;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The service role and databases, made through a superuser connection (`superuser`). */
export async function provisionDatabases(superuser: pg.ClientConfig, s: InfraSettings): Promise<void> {
  const client = new pg.Client(superuser);
  await client.connect();
  try {
    const role = pg.escapeIdentifier(s.postgres.user);
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [s.postgres.user]);
    const password = pg.escapeLiteral(s.postgres.password);
    // CREATEDB lets the test suites make a throwaway database each; REPLICATION lets the harness create the
    // logical replication slot it reads a run's changes through (loadgen/src/wal).
    await client.query(
      exists.rowCount === 0
        ? `CREATE ROLE ${role} LOGIN CREATEDB REPLICATION PASSWORD ${password}`
        : `ALTER ROLE ${role} LOGIN CREATEDB REPLICATION PASSWORD ${password}`,
    );
    // In the database tools connect to for server-wide figures; the role reads every statement's counts.
    await client.query(`CREATE EXTENSION IF NOT EXISTS ${STATEMENTS}`);
    await client.query(`GRANT pg_read_all_stats TO ${role}`);
    for (const db of s.postgres.databases) {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (found.rowCount === 0)
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(db)} OWNER ${role}`);
    }
  } finally {
    await client.end();
  }
}

/** A fast shutdown (SIGINT): open sessions are ended rather than waited for, then the server stops cleanly. */
export function stopPostgres(s: InfraSettings) {
  return stopProcess(postgresProcess(s), 20_000, 'SIGINT');
}
