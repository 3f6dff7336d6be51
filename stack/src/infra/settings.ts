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
  };
  redis: { port: number };
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

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new InfraError(`${name} must be a TCP port between 1 and 65535, got "${raw}"`);
  }
  return value;
}

function unsafeAsyncCommit(env: NodeJS.ProcessEnv): boolean {
  const raw = env.PG_UNSAFE_ASYNC_COMMIT;
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new InfraError(`PG_UNSAFE_ASYNC_COMMIT must be true or false, got "${raw}"`);
}

function clusterSize(env: NodeJS.ProcessEnv): 1 | 3 {
  const raw = env.KAFKA_CLUSTER_SIZE;
  if (raw === undefined || raw === '' || raw === '1') return 1;
  if (raw === '3') return 3;
  throw new InfraError(`KAFKA_CLUSTER_SIZE must be 1 or 3, got "${raw}"`);
}

/** Every broker's address, for clients to bootstrap from: one that is down is skipped. */
export function kafkaBootstrap(s: InfraSettings): string {
  return Array.from({ length: s.kafka.nodes }, (_, i) => `127.0.0.1:${s.kafka.port + 2 * i}`).join(',');
}

export const SERVICE_DATABASES = ['account', 'ticket', 'payment', 'provider'] as const;

export function readInfraSettings(env: NodeJS.ProcessEnv, quiet: boolean): InfraSettings {
  const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
  return {
    repoRoot,
    stateDir: resolve(env.RESERVEX_INFRA_DIR ?? resolve(repoRoot, '.infra')),
    quiet,
    postgres: {
      port: port(env, 'PG_PORT', 5432),
      user: env.PG_USER ?? 'reservex',
      password: env.PG_PASSWORD ?? 'reservex',
      databases: SERVICE_DATABASES,
      synchronousCommit: unsafeAsyncCommit(env) ? 'off' : 'on',
    },
    redis: { port: port(env, 'REDIS_PORT', 6379) },
    kafka: {
      port: port(env, 'KAFKA_PORT', 9092),
      controllerPort: port(env, 'KAFKA_CONTROLLER_PORT', 9093),
      // Pinned: the jars come from Maven Central at exactly this version (infra/kafka/pom.xml).
      version: '4.1.1',
      heapMb: 768,
      nodes: clusterSize(env),
      proxiedListeners: [
        { name: 'TICKET', port: 19192, advertisedPort: 29192 },
        { name: 'PAYMENT', port: 19193, advertisedPort: 29193 },
      ],
    },
    prometheus: { port: port(env, 'PROMETHEUS_PORT', 9090) },
    edge: { port: port(env, 'EDGE_PORT', 8090), ticketUrl: env.TICKET_URL ?? 'http://127.0.0.1:8080' },
  };
}
