import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kafkaRoundTrip } from './health.ts';
import { ensurePackage } from './os-packages.ts';
import {
  assertPortFree,
  InfraError,
  isPortOpen,
  managed,
  runningPid,
  startDetached,
  stopProcess,
  waitUntil,
} from './processes.ts';
import { type InfraSettings, kafkaBootstrap } from './settings.ts';

/** Node 0 is `kafka` (the chaos target); nodes 1 and 2 of a three-node cluster are `kafka-2` and `kafka-3`. */
export function kafkaProcess(s: InfraSettings, node = 0) {
  return managed(s.stateDir, node === 0 ? 'kafka' : `kafka-${node + 1}`);
}

const nodePort = (s: InfraSettings, node: number) => s.kafka.port + 2 * node;
const controllerPort = (s: InfraSettings, node: number) => s.kafka.controllerPort + 2 * node;

function javaMajorVersion(): number | undefined {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const match = /version "(\d+)/.exec(result.stderr ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** The broker's class path: the official org.apache.kafka artifacts and their dependencies, from Maven Central. */
function ensureKafkaJars(s: InfraSettings, log: (m: string) => void): string {
  const libDir = join(s.stateDir, 'kafka', `lib-${s.kafka.version}`);
  if (existsSync(join(libDir, `kafka_2.13-${s.kafka.version}.jar`))) return libDir;
  ensurePackage(['mvn'], ['maven'], log);
  log(`fetching Apache Kafka ${s.kafka.version} from Maven Central`);
  const result = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      join(s.repoRoot, 'infra', 'kafka', 'pom.xml'),
      `-Dkafka.version=${s.kafka.version}`,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${libDir}`,
      '-DincludeScope=runtime',
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) {
    throw new InfraError(
      `fetching Kafka jars with Maven failed:\n${(result.stdout + result.stderr).slice(-2000)}`,
    );
  }
  return libDir;
}

function serverProperties(s: InfraSettings, dataDir: string, node: number): string {
  const cluster = s.kafka.nodes > 1;
  // Network faults put one listener per service behind Toxiproxy; that is for the single broker only.
  const proxied = cluster ? [] : s.kafka.proxiedListeners;
  const replication = cluster ? 3 : 1;
  const minIsr = cluster ? 2 : 1;
  const voters = Array.from(
    { length: s.kafka.nodes },
    (_, i) => `${i + 1}@127.0.0.1:${controllerPort(s, i)}`,
  );
  return [
    'process.roles=broker,controller',
    `node.id=${node + 1}`,
    `controller.quorum.voters=${voters.join(',')}`,
    `listeners=${[
      `PLAINTEXT://127.0.0.1:${nodePort(s, node)}`,
      `CONTROLLER://127.0.0.1:${controllerPort(s, node)}`,
      ...proxied.map((l) => `${l.name}://127.0.0.1:${l.port}`),
    ].join(',')}`,
    `advertised.listeners=${[
      `PLAINTEXT://127.0.0.1:${nodePort(s, node)}`,
      ...proxied.map((l) => `${l.name}://127.0.0.1:${l.advertisedPort}`),
    ].join(',')}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=${['PLAINTEXT', 'CONTROLLER', ...proxied.map((l) => l.name)].map((n) => `${n}:PLAINTEXT`).join(',')}`,
    `log.dirs=${dataDir}`,
    'num.partitions=6',
    // With three brokers a write is acknowledged by two of them before it counts: one broker lost loses nothing.
    `default.replication.factor=${replication}`,
    `min.insync.replicas=${minIsr}`,
    `offsets.topic.replication.factor=${replication}`,
    'offsets.topic.num.partitions=12',
    `transaction.state.log.replication.factor=${replication}`,
    `transaction.state.log.min.isr=${minIsr}`,
    `share.coordinator.state.topic.replication.factor=${replication}`,
    `share.coordinator.state.topic.min.isr=${minIsr}`,
    // A developer cluster: no reason to make a new consumer group wait for more members.
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    'log.retention.hours=24',
    '',
  ].join('\n');
}

export async function startKafka(s: InfraSettings, log: (m: string) => void): Promise<void> {
  const nodes = Array.from({ length: s.kafka.nodes }, (_, i) => i);
  const down = nodes.filter((n) => runningPid(kafkaProcess(s, n)) === undefined);
  if (down.length === 0) return;
  const major = javaMajorVersion();
  if (major === undefined || major < 17) {
    ensurePackage(['/usr/lib/jvm/java-17-openjdk-amd64/bin/java'], ['openjdk-17-jre-headless'], log);
  }
  const libDir = ensureKafkaJars(s, log);
  const classPath = `${libDir}/*`;
  const cluster = s.kafka.nodes > 1;
  // A cluster keeps its own data apart from the single broker's: the two metadata logs know different voters.
  const home = join(s.stateDir, 'kafka', cluster ? `cluster-${s.kafka.nodes}` : '');
  mkdirSync(home, { recursive: true });
  const idFile = join(home, 'cluster-id');
  if (!existsSync(idFile)) {
    const id = execFileSync('java', ['-cp', classPath, 'kafka.tools.StorageTool', 'random-uuid'], {
      encoding: 'utf8',
    });
    writeFileSync(idFile, id.trim());
  }
  const clusterId = readFileSync(idFile, 'utf8').trim();
  for (const node of down) {
    const proc = kafkaProcess(s, node);
    await assertPortFree(proc, nodePort(s, node), 'KAFKA_PORT');
    await assertPortFree(proc, controllerPort(s, node), 'KAFKA_CONTROLLER_PORT');
    if (!cluster) for (const l of s.kafka.proxiedListeners) await assertPortFree(proc, l.port, 'KAFKA_PORT');
    const dataDir = join(s.stateDir, 'data', cluster ? `kafka-cluster-${node + 1}` : 'kafka');
    const configFile = join(home, node === 0 ? 'server.properties' : `server-${node + 1}.properties`);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(configFile, serverProperties(s, dataDir, node));
    if (!readdirSync(dataDir).includes('meta.properties')) {
      log(`formatting the KRaft metadata log${cluster ? ` of node ${node + 1}` : ''}`);
      execFileSync(
        'java',
        ['-cp', classPath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', configFile],
        {
          stdio: 'pipe',
        },
      );
    }
    startDetached(proc, 'java', [
      `-Xms256m`,
      `-Xmx${s.kafka.heapMb}m`,
      '-XX:+UseG1GC',
      `-Dlog4j2.configurationFile=${join(s.repoRoot, 'infra', 'kafka', 'log4j2.yaml')}`,
      '-cp',
      classPath,
      'kafka.Kafka',
      configFile,
    ]);
  }
  // Started together: a cluster's controllers need a majority before any of them serves. After a crash each
  // node recovers its partition logs before it listens: give it time.
  for (const node of down) {
    await waitUntil(
      kafkaProcess(s, node),
      `port ${nodePort(s, node)}`,
      () => isPortOpen(nodePort(s, node)),
      180_000,
    );
  }
  await waitUntil(
    kafkaProcess(s, down[0]!),
    'produce/consume round trip',
    async () => (await kafkaRoundTrip(kafkaBootstrap(s))).brokers >= s.kafka.nodes,
    120_000,
  );
}

export async function stopKafka(s: InfraSettings) {
  // Every node either size may have left running.
  for (const node of [2, 1, 0]) await stopProcess(kafkaProcess(s, node), 30_000);
}
