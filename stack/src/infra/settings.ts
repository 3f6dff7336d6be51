import { resolve } from 'node:path';
import { InfraError } from './processes.ts';

// The infra CLI is a start-up program: it reads the environment once, here, and passes a typed object around.
export interface InfraSettings {
  repoRoot: string;
  stateDir: string;
  quiet: boolean;
  postgres: {
    port: number;
    user: string;
    password: string;
    databases: readonly string[];
    /** 'on' unless PG_UNSAFE_ASYNC_COMMIT=true: an acknowledged commit can then vanish in a crash. */
    synchronousCommit: 'on' | 'off';
    /**
     * PG_CLUSTER=3: three PostgreSQL nodes under Patroni (etcd as its store), on `nodes[i].port`, each with its
     * REST API on `nodes[i].restPort`; HAProxy listens on `port` and forwards to whichever node Patroni calls the
     * primary. Undefined (the default, PG_CLUSTER=1): one server on `port`.
     */
    cluster?: PgCluster;
  };
  redis: {
    port: number;
    /**
     * REDIS_SENTINEL=3: a master and a replica (`nodePorts`) watched by three sentinels (`sentinelPorts`), behind
     * HAProxy on `port`, which forwards to whichever node says `role:master`. Undefined (the default): one server.
     */
    sentinel?: { nodePorts: number[]; sentinelPorts: number[]; masterName: string };
  };
  kafka: {
    port: number;
    controllerPort: number;
    version: string;
    heapMb: number;
    /**
     * 1 (the default) or 3 (KAFKA_CLUSTER_SIZE=3): three KRaft nodes, each broker and controller, on `port`,
     * `port + 2`, `port + 4` (controllers on `controllerPort`, `+ 2`, `+ 4`), replication factor 3 and
     * min.insync.replicas 2. Its own data directories: switching sizes needs `infra:down` first.
     */
    nodes: 1 | 3;
    /**
     * One listener per service that a chaos scenario may put behind Toxiproxy: the broker listens on `port` and
     * advertises `advertisedPort`, where the proxy listens. A Kafka client goes back to the advertised address
     * for every broker connection, so without this it would reconnect around the proxy.
     */
    proxiedListeners: Array<{ name: string; port: number; advertisedPort: number }>;
  };
  prometheus: { port: number };
  /**
   * The edge cache in front of ticket-service, as a CDN would be: it listens on `port` and forwards to `ticketUrl`
   * (TICKET_URL: where the runner starts ticket-service, or HAProxy in front of its replicas).
   */
  edge: { port: number; ticketUrl: string };
}

export interface PgCluster {
  /** `linkPort`: where the other nodes reach this one for replication, through a link of `linkDelayMs`. */
  nodes: Array<{ name: string; port: number; restPort: number; linkPort: number }>;
  /**
   * PG_LINK_DELAY_MS (0 by default): the standbys' replication stream runs this far behind the primary, as between
   * machines rather than on one loopback; what is in flight when a node is lost is lost with it, as its unsent WAL
   * would be. Replication goes through a delaying proxy per node (link-delay.ts); clients never do.
   */
  linkDelayMs: number;
  etcd: { clientPort: number; peerPort: number };
  /**
   * True unless PG_UNSAFE_ASYNC_STANDBY=true: a commit is acknowledged only once a standby has its WAL, and only
   * that standby may be promoted, so losing the primary loses no acknowledged commit (RPO 0).
   */
  synchronousStandby: boolean;
  superuserPassword: string;
  replicationPassword: string;
}

/** A whole number from the environment within `range`; `what` says it, range included, in the error. */
function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  range: readonly [number, number],
  what: string,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < range[0] || value > range[1])
    throw new InfraError(`${name} must be ${what}, got "${raw}"`);
  return value;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  return integer(env, name, fallback, [1, 65535], 'a TCP port between 1 and 65535');
}

/** An opt-in named in the environment: `true`, or `false` / unset. */
function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new InfraError(`${name} must be true or false, got "${raw}"`);
}

function oneOrThree(env: NodeJS.ProcessEnv, name: string): 1 | 3 {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '1') return 1;
  if (raw === '3') return 3;
  throw new InfraError(`${name} must be 1 or 3, got "${raw}"`);
}

function pgCluster(env: NodeJS.ProcessEnv, pgPort: number): PgCluster | undefined {
  if (oneOrThree(env, 'PG_CLUSTER') === 1) return undefined;
  const restBase = port(env, 'PATRONI_PORT', 8008);
  const etcdPort = port(env, 'ETCD_PORT', 2379);
  return {
    nodes: [1, 2, 3].map((i) => ({
      name: `pg${i}`,
      port: pgPort + i,
      restPort: restBase + i - 1,
      linkPort: pgPort + 10 + i,
    })),
    linkDelayMs: integer(
      env,
      'PG_LINK_DELAY_MS',
      0,
      [0, 1000],
      'a whole number of milliseconds from 0 to 1000',
    ),
    etcd: { clientPort: etcdPort, peerPort: etcdPort + 1 },
    synchronousStandby: !flag(env, 'PG_UNSAFE_ASYNC_STANDBY'),
    superuserPassword: env.PG_SUPERUSER_PASSWORD ?? 'reservex-superuser',
    replicationPassword: env.PG_REPLICATION_PASSWORD ?? 'reservex-replication',
  };
}

function redisSentinel(env: NodeJS.ProcessEnv, redisPort: number): InfraSettings['redis']['sentinel'] {
  if (oneOrThree(env, 'REDIS_SENTINEL') === 1) return undefined;
  const sentinelBase = port(env, 'SENTINEL_PORT', 26379);
  return {
    nodePorts: [redisPort + 1, redisPort + 2],
    sentinelPorts: [sentinelBase, sentinelBase + 1, sentinelBase + 2],
    masterName: 'reservex',
  };
}

/** Every broker's address, for clients to bootstrap from: one that is down is skipped. */
export function kafkaBootstrap(s: InfraSettings): string {
  return Array.from({ length: s.kafka.nodes }, (_, i) => `127.0.0.1:${s.kafka.port + 2 * i}`).join(',');
}

export const SERVICE_DATABASES = ['account', 'ticket', 'payment', 'provider'] as const;

export function readInfraSettings(env: NodeJS.ProcessEnv, quiet: boolean): InfraSettings {
  const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
  const pgPort = port(env, 'PG_PORT', 5432);
  const redisPort = port(env, 'REDIS_PORT', 6379);
  return {
    repoRoot,
    stateDir: resolve(env.RESERVEX_INFRA_DIR ?? resolve(repoRoot, '.infra')),
    quiet,
    postgres: {
      port: pgPort,
      user: env.PG_USER ?? 'reservex',
      password: env.PG_PASSWORD ?? 'reservex',
      databases: SERVICE_DATABASES,
      synchronousCommit: flag(env, 'PG_UNSAFE_ASYNC_COMMIT') ? 'off' : 'on',
      cluster: pgCluster(env, pgPort),
    },
    redis: { port: redisPort, sentinel: redisSentinel(env, redisPort) },
    kafka: {
      port: port(env, 'KAFKA_PORT', 9092),
      controllerPort: port(env, 'KAFKA_CONTROLLER_PORT', 9093),
      // Pinned: the jars come from Maven Central at exactly this version (infra/kafka/pom.xml).
      version: '4.1.1',
      heapMb: 768,
      nodes: oneOrThree(env, 'KAFKA_CLUSTER_SIZE'),
      proxiedListeners: [
        { name: 'TICKET', port: 19192, advertisedPort: 29192 },
        { name: 'PAYMENT', port: 19193, advertisedPort: 29193 },
      ],
    },
    prometheus: { port: port(env, 'PROMETHEUS_PORT', 9090) },
    edge: { port: port(env, 'EDGE_PORT', 8090), ticketUrl: env.TICKET_URL ?? 'http://127.0.0.1:8080' },
  };
}
