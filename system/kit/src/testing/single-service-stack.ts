import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { deleteTopicsWithPrefix } from '../kafka.ts';
import { sagaPublisher } from './saga-publisher.ts';
import { createTestDatabase, testInfra } from './test-infra.ts';
import { testTokenIssuer } from './test-tokens.ts';

/** What every single-service test stack passes its service: fresh names and the local servers. */
export function testServiceEnv(prefix: string, jwksUrl: string, databaseUrl: string) {
  const infra = testInfra();
  return {
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: infra.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: prefix,
    ACCOUNT_JWKS_URL: jwksUrl,
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SHUTDOWN_GRACE_MS: '3000',
  };
}

/**
 * What a test stack of one saga service needs around the service: Kafka topics of its own (a random prefix), a
 * fresh database and a pool to read it, tokens signed as account-service signs them, and a publisher that plays
 * the other side of the saga. `close` removes them all, once the service has stopped.
 */
export async function singleServiceStack(database: string) {
  const prefix = `${database.charAt(0)}${randomUUID().slice(0, 8)}.`;
  const tokens = await testTokenIssuer();
  const db = await createTestDatabase(database);
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  // A test that stops PostgreSQL would otherwise die of this pool's idle connections.
  pool.on('error', () => {});
  const saga = sagaPublisher(prefix);
  return {
    prefix,
    tokens,
    /** The service's database, to read what it wrote. */
    pool,
    /** What the service reads to run on these: the local servers, the database, the topics, the token keys. */
    env: testServiceEnv(prefix, tokens.jwksUrl, db.url),
    adminToken: await tokens.token({ roles: ['user', 'admin'] }),
    /** Plays the other service: puts one of its saga messages on this stack's topic, as its outbox relay would. */
    publish: saga.publish,
    async close() {
      await saga.close();
      await pool.end();
      await tokens.close();
      await db.drop();
      await deleteTopicsWithPrefix(testInfra().kafkaBrokers.split(','), prefix);
    },
  };
}
