// Mocha global fixture. Active only when scripts/test.ts found a Docker engine: it starts PostgreSQL, Redis and a
// KRaft Kafka (and a Prometheus) in throwaway containers and points the tests at them through the TEST_* variables.
import type { StartedTestContainer } from 'testcontainers';

const started: StartedTestContainer[] = [];

export async function mochaGlobalSetup(): Promise<void> {
  if (process.env.RESERVEX_TEST_INFRA !== 'testcontainers') return;
  const { GenericContainer, Wait } = await import('testcontainers');
  const postgres = await new GenericContainer('postgres:16-alpine')
    .withEnvironment({ POSTGRES_USER: 'reservex', POSTGRES_PASSWORD: 'reservex', POSTGRES_DB: 'postgres' })
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  const redis = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
  // Kafka advertises the address clients must use, so the host port is fixed rather than random.
  const kafkaPort = Number(process.env.TEST_KAFKA_HOST_PORT ?? 39092);
  const kafka = await new GenericContainer('apache/kafka:4.1.1')
    .withExposedPorts({ container: 9092, host: kafkaPort })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${kafkaPort}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  // The image's own configuration scrapes Prometheus itself, which is all the report-series test needs.
  const prometheus = await new GenericContainer('prom/prometheus:v2.55.1')
    .withExposedPorts(9090)
    .withWaitStrategy(Wait.forHttp('/-/ready', 9090))
    .start();
  started.push(postgres, redis, kafka, prometheus);
  process.env.TEST_PG_ADMIN_URL = `postgres://reservex:reservex@${postgres.getHost()}:${postgres.getMappedPort(5432)}/postgres`;
  process.env.TEST_REDIS_URL = `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`;
  process.env.TEST_KAFKA_BROKERS = `127.0.0.1:${kafkaPort}`;
  process.env.TEST_PROMETHEUS_URL = `http://${prometheus.getHost()}:${prometheus.getMappedPort(9090)}`;
}

export async function mochaGlobalTeardown(): Promise<void> {
  await Promise.allSettled(started.map((c) => c.stop()));
}
