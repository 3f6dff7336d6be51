import { readdirSync, readFileSync } from 'node:fs';

/** What a process is, from its command line: the stack's components, each summed over its processes. */
const COMPONENTS: ReadonlyArray<readonly [string, (args: string, comm: string) => boolean]> = [
  ['ticket-service', (a) => a.includes('ticket-service/src/main.ts')],
  ['payment-service', (a) => a.includes('payment-service/src/main.ts')],
  ['payment-provider', (a) => a.includes('payment-provider/src/main.ts')],
  ['account-service', (a) => a.includes('account-service/src/main.ts')],
  // A session runs the services' statements; the rest (autovacuum, WAL writer, checkpointer) is PostgreSQL's own.
  ['postgres sessions', (a, comm) => comm === 'postgres' && /^postgres: \S+ \S+ (\d|\[local\])/.test(a)],
  ['postgres background', (_, comm) => comm === 'postgres'],
  ['kafka', (a) => a.includes('kafka.Kafka')],
  ['redis', (_, comm) => comm === 'redis-server'],
  ['prometheus', (_, comm) => comm === 'prometheus'],
  ['haproxy', (_, comm) => comm === 'haproxy'],
];

// USER_HZ: the unit of /proc/<pid>/stat's times, 100 on every Linux this runs on.
const TICKS_PER_SECOND = 100;

function processCpuSeconds(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** A process's command line and name, or undefined once it has gone. */
function processTitle(pid: string): { args: string; comm: string } | undefined {
  try {
    return {
      args: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim(),
      comm: readFileSync(`/proc/${pid}/comm`, 'utf8').trim(),
    };
  } catch {
    return undefined;
  }
}

export type CpuSnapshot = Map<string, Map<string, number>>;

/** CPU seconds used so far by every process, grouped by what `groupOf` says it is (and left out where it says nothing). */
function snapshotBy(groupOf: (pid: string) => string | undefined): CpuSnapshot {
  const snapshot: CpuSnapshot = new Map();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const group = groupOf(pid);
    if (group === undefined) continue;
    const seconds = processCpuSeconds(pid);
    if (seconds === undefined) continue;
    const processes = snapshot.get(group) ?? new Map<string, number>();
    processes.set(pid, seconds);
    snapshot.set(group, processes);
  }
  return snapshot;
}

/** CPU seconds used so far by every process of each component, and by this process (the load generator). */
export function cpuSnapshot(): CpuSnapshot {
  return snapshotBy((pid) => {
    if (pid === String(process.pid)) return 'load generator';
    const title = processTitle(pid);
    return title && COMPONENTS.find(([, matches]) => matches(title.args, title.comm))?.[0];
  });
}

/**
 * The database a PostgreSQL session serves, from its process title ("postgres: <user> <database> <client> …");
 * undefined for the server's own processes (autovacuum, WAL writer, checkpointer), which serve no one database.
 */
export function sessionDatabase(title: string): string | undefined {
  return /^postgres: \S+ (\S+) (?:\d|\[local\])/.exec(title)?.[1];
}

/**
 * CPU seconds used so far by PostgreSQL's sessions, by the database they serve: one service's statements each, since
 * every service has a database of its own. Read with `cpuBetween` like a snapshot of components.
 */
export function postgresCpuByDatabase(): CpuSnapshot {
  return snapshotBy((pid) => {
    const title = processTitle(pid);
    return title?.comm === 'postgres' ? sessionDatabase(title.args) : undefined;
  });
}

/** CPU seconds each component used between two snapshots; a process born in between counts whole. */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): Map<string, number> {
  const used = new Map<string, number>();
  for (const [component, processes] of after) {
    let sum = 0;
    for (const [pid, seconds] of processes) sum += seconds - (before.get(component)?.get(pid) ?? 0);
    used.set(component, sum);
  }
  return used;
}

/**
 * Microseconds, since boot, during which at least one runnable task waited for a CPU (Linux pressure stall
 * information, "some"); undefined where the kernel does not keep it. Over a stretch of time its growth divided by
 * the time is the share of that stretch in which work queued for a core rather than ran.
 */
export function cpuWaitedMicroseconds(
  read = () => readFileSync('/proc/pressure/cpu', 'utf8'),
): number | undefined {
  try {
    const total = /^some .*total=(\d+)/m.exec(read())?.[1];
    return total === undefined ? undefined : Number(total);
  } catch {
    return undefined;
  }
}

/**
 * What `run` cost ticket-service in CPU seconds, every thread of every process of it (/proc counts the crypto and
 * GC threads too, which a rate of requests a second does not see), with its idle work over the same stretch.
 */
export async function ticketCpuOf<T>(run: () => Promise<T>): Promise<{ value: T; cpuSeconds: number }> {
  const before = cpuSnapshot();
  const value = await run();
  return { value, cpuSeconds: cpuBetween(before, cpuSnapshot()).get('ticket-service') ?? 0 };
}
