import { randomUUID } from 'node:crypto';
import pg from 'pg';

/**
 * Where the tests find the real servers: the local-mode infra by default, or whatever the test bootstrap
 * (testcontainers, when a Docker engine is reachable) put into these variables.
 */
export function testInfra() {
  const env = process.env;
  return {
    pgAdminUrl:
      env.TEST_PG_ADMIN_URL ?? `postgres://reservex:reservex@127.0.0.1:${env.PG_PORT ?? 5432}/postgres`,
    redisUrl: env.TEST_REDIS_URL ?? `redis://127.0.0.1:${env.REDIS_PORT ?? 6379}`,
    kafkaBrokers:
      env.TEST_KAFKA_BROKERS ??
      (env.KAFKA_CLUSTER_SIZE === '3'
        ? [0, 2, 4].map((d) => `127.0.0.1:${Number(env.KAFKA_PORT ?? 9092) + d}`).join(',')
        : `127.0.0.1:${env.KAFKA_PORT ?? 9092}`),
    prometheusUrl: env.TEST_PROMETHEUS_URL ?? `http://127.0.0.1:${env.PROMETHEUS_PORT ?? 9090}`,
  };
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, empty database per suite: suites never see each other's rows, and a crashed run leaves no residue. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const { pgAdminUrl } = testInfra();
  const name = `test_${label.replace(/\W/g, '_')}_${randomUUID().slice(0, 8)}`.toLowerCase();
  const admin = new pg.Client({ connectionString: pgAdminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(pgAdminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: pgAdminUrl });
      await client.connect();
      try {
        // FORCE cannot end a superuser's backend, and autovacuum may be at work in the database for a moment:
        // PostgreSQL then refuses (insufficient_privilege), and a little later it can drop.
        for (let attempt = 1; ; attempt += 1) {
          try {
            await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
            return;
          } catch (error) {
            if ((error as { code?: string }).code !== '42501' || attempt >= 20) throw error;
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        }
      } finally {
        await client.end();
      }
    },
  };
}
