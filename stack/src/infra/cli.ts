#!/usr/bin/env node
// npm run infra:up | infra:status | infra:down | infra:reset
// Docker mode when a Docker engine answers, local mode (OS packages + Kafka jars on the JDK) otherwise.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { compose, dockerEngineReachable } from './docker-mode.ts';
import { stopRouter } from './ha-router.ts';
import { type ComponentHealth, checkAll } from './health.ts';
import { startEdge, stopEdge } from './local-edge.ts';
import { startKafka, stopKafka } from './local-kafka.ts';
import { startPgCluster, stopPgCluster } from './local-pg-cluster.ts';
import { startPostgres, stopPostgres } from './local-postgres.ts';
import { startPrometheus, stopPrometheus } from './local-prometheus.ts';
import { startRedis, stopRedis } from './local-redis.ts';
import { redisRoles, sentinelMaster, startRedisSentinel, stopRedisSentinel } from './local-redis-sentinel.ts';
import { describeMember, pgMembers } from './patroni-rest.ts';
import { InfraError } from './processes.ts';
import { type InfraSettings, readInfraSettings } from './settings.ts';

const USAGE = `usage: node stack/src/infra/cli.ts <up|status|down|reset> [--quiet]
  up      start PostgreSQL, Redis, Kafka (KRaft), Prometheus and the edge cache (nginx in front of ticket-service),
          and wait until each is healthy (idempotent)
  status  one line per component; exits 1 when any is unhealthy
  down    stop everything, keep the data
  reset   stop everything and delete the data (the edge's cache too)
environment: RESERVEX_INFRA_MODE=docker|local, PG_PORT, REDIS_PORT, KAFKA_PORT, KAFKA_CONTROLLER_PORT, PROMETHEUS_PORT,
  EDGE_PORT, TICKET_URL (where the edge forwards to)
  KAFKA_CLUSTER_SIZE=3   three Kafka brokers
  PG_CLUSTER=3           three PostgreSQL nodes under Patroni (etcd on ETCD_PORT, REST on PATRONI_PORT…+2), one
                         standby synchronous; HAProxy on PG_PORT forwards to the primary
  REDIS_SENTINEL=3       a Redis master and replica watched by three sentinels (SENTINEL_PORT…+2); HAProxy on
                         REDIS_PORT forwards to the master
  PG_LINK_DELAY_MS=N     with PG_CLUSTER=3: the standbys' stream N ms behind the primary each way, as between
                         machines; what is in flight goes with a lost node (clients are not delayed)
  PG_UNSAFE_ASYNC_COMMIT=true, PG_UNSAFE_ASYNC_STANDBY=true   durability traded away, by name: a crash or a
                         failover can then lose acknowledged commits
  Switching a size needs infra:down first.`;

type Mode = 'docker' | 'local';

function chooseMode(): Mode {
  const forced = process.env.RESERVEX_INFRA_MODE;
  if (forced === 'docker' || forced === 'local') return forced;
  if (forced !== undefined && forced !== '')
    throw new InfraError(`RESERVEX_INFRA_MODE must be docker or local, got "${forced}"`);
  return dockerEngineReachable() ? 'docker' : 'local';
}

async function up(s: InfraSettings, mode: Mode, log: (m: string) => void) {
  if (mode === 'docker') {
    compose(s, ['up', '-d', '--wait']);
    return;
  }
  // Sequential on purpose: on two cores, starting the JVM beside initdb only slows both.
  await (s.postgres.cluster === undefined ? startPostgres(s, log) : startPgCluster(s, log));
  await (s.redis.sentinel === undefined ? startRedis(s, log) : startRedisSentinel(s, log));
  await startKafka(s, log);
  await startPrometheus(s, log);
  // Last, and without waiting for ticket-service: until the origin answers, the edge answers 502.
  await startEdge(s, log);
}

async function down(s: InfraSettings, mode: Mode) {
  if (mode === 'docker') {
    compose(s, ['stop']);
    return;
  }
  await stopEdge(s);
  await stopPrometheus(s);
  await stopKafka(s);
  await stopRouter(s);
  await (s.redis.sentinel === undefined ? stopRedis(s) : stopRedisSentinel(s));
  await (s.postgres.cluster === undefined ? stopPostgres(s) : stopPgCluster(s));
}

async function status(s: InfraSettings, mode: Mode): Promise<boolean> {
  const results = await checkAll(s);
  if (mode === 'local') results.push(...(await nodeRoles(s)));
  for (const r of results) {
    console.log(`${r.healthy ? 'ok  ' : 'FAIL'} ${r.component.padEnd(10)} ${r.detail}`);
  }
  console.log(`mode: ${mode}`);
  return results.every((r) => r.healthy);
}

/** Each replicated node's role, as Patroni and the Redis nodes and sentinels say it. */
async function nodeRoles(s: InfraSettings): Promise<ComponentHealth[]> {
  const lines: ComponentHealth[] = [];
  if (s.postgres.cluster !== undefined) {
    const members = await pgMembers(s);
    const leader = members.some((m) => m.role === 'leader' && m.state === 'running');
    const synchronous = members.some((m) => m.role === 'sync_standby');
    lines.push({
      component: 'pg-nodes',
      healthy: leader && (synchronous || !s.postgres.cluster.synchronousStandby),
      detail:
        members.length === 0
          ? 'no Patroni answers'
          : `${members.map(describeMember).join(', ')}${s.postgres.cluster.linkDelayMs > 0 ? `; replication links ${s.postgres.cluster.linkDelayMs} ms each way` : ''}${s.postgres.cluster.synchronousStandby ? '' : '; UNSAFE: standbys asynchronous'}`,
    });
  }
  if (s.redis.sentinel !== undefined) {
    const roles = await redisRoles(s);
    const master = await sentinelMaster(s);
    lines.push({
      component: 'redis-nodes',
      healthy: roles.filter((r) => r.role === 'master').length === 1 && master !== undefined,
      detail: `${roles.map((r) => `${r.port} ${r.role}`).join(', ')}; the sentinels name ${master ?? 'no'} master`,
    });
  }
  return lines;
}

async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  const quiet = argv.includes('--quiet');
  if (command === undefined || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  const s = readInfraSettings(process.env, quiet);
  const mode = chooseMode();
  const log = (message: string) => {
    if (!quiet) console.log(`infra: ${message}`);
  };
  switch (command) {
    case 'up': {
      const started = Date.now();
      log(`mode ${mode}; state in ${s.stateDir}`);
      await up(s, mode, log);
      const healthy = quiet ? (await checkAll(s)).every((r) => r.healthy) : await status(s, mode);
      if (!healthy) {
        if (quiet) await status(s, mode);
        return 1;
      }
      log(`ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      return 0;
    }
    case 'status':
      return (await status(s, mode)) ? 0 : 1;
    case 'down':
      await down(s, mode);
      log('stopped');
      return 0;
    case 'reset':
      await down(s, mode);
      if (mode === 'docker') compose(s, ['down', '-v']);
      rmSync(join(s.stateDir, 'data'), { recursive: true, force: true });
      log('stopped and data deleted');
      return 0;
    default:
      console.error(`infra: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`infra: ${error instanceof InfraError ? error.message : (error as Error).stack}`);
    process.exit(1);
  },
);
