import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
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
import type { InfraSettings } from './settings.ts';

export function kafkaProcess(s: InfraSettings) {
  return managed(s.stateDir, 'kafka');
}

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

function serverProperties(s: InfraSettings, dataDir: string): string {
  const proxied = s.kafka.proxiedListeners;
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${s.kafka.controllerPort}`,
    `listeners=${[
      `PLAINTEXT://127.0.0.1:${s.kafka.port}`,
      `CONTROLLER://127.0.0.1:${s.kafka.controllerPort}`,
      ...proxied.map((l) => `${l.name}://127.0.0.1:${l.port}`),
    ].join(',')}`,
    `advertised.listeners=${[
      `PLAINTEXT://127.0.0.1:${s.kafka.port}`,
      ...proxied.map((l) => `${l.name}://127.0.0.1:${l.advertisedPort}`),
    ].join(',')}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=${['PLAINTEXT', 'CONTROLLER', ...proxied.map((l) => l.name)].map((n) => `${n}:PLAINTEXT`).join(',')}`,
    `log.dirs=${dataDir}`,
    'num.partitions=6',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=12',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // A single developer broker: no reason to make a new consumer group wait for more members.
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    'log.retention.hours=24',
    '',
  ].join('\n');
}

export async function startKafka(s: InfraSettings, log: (m: string) => void): Promise<void> {
  const proc = kafkaProcess(s);
  if (runningPid(proc) !== undefined) return;
  const major = javaMajorVersion();
  if (major === undefined || major < 17) {
    ensurePackage(['/usr/lib/jvm/java-17-openjdk-amd64/bin/java'], ['openjdk-17-jre-headless'], log);
  }
  const libDir = ensureKafkaJars(s, log);
  await assertPortFree(proc, s.kafka.port, 'KAFKA_PORT');
  await assertPortFree(proc, s.kafka.controllerPort, 'KAFKA_CONTROLLER_PORT');
  for (const l of s.kafka.proxiedListeners) await assertPortFree(proc, l.port, 'KAFKA_PORT');

  const dataDir = join(s.stateDir, 'data', 'kafka');
  const configFile = join(s.stateDir, 'kafka', 'server.properties');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(configFile, serverProperties(s, dataDir));
  const classPath = `${libDir}/*`;
  if (!readdirSync(dataDir).includes('meta.properties')) {
    log('formatting the KRaft metadata log');
    const clusterId = execFileSync('java', ['-cp', classPath, 'kafka.tools.StorageTool', 'random-uuid'], {
      encoding: 'utf8',
    }).trim();
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
  // After a crash the broker recovers every partition log before it listens: give it time.
  await waitUntil(proc, `port ${s.kafka.port}`, () => isPortOpen(s.kafka.port), 180_000);
  await waitUntil(
    proc,
    'produce/consume round trip',
    async () => (await kafkaRoundTrip(`127.0.0.1:${s.kafka.port}`)).brokers > 0,
    60_000,
  );
}

export function stopKafka(s: InfraSettings) {
  return stopProcess(kafkaProcess(s), 30_000);
}
