import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testInfra } from '@reservex/kit/testing';
import pg from 'pg';
import { checkAll, kafkaRoundTrip } from '../src/infra/health.ts';
import { readInfraSettings } from '../src/infra/settings.ts';

/** Images of software under the AGPL (Grafana since 8, k6, Loki, Tempo, Mimir, Pyroscope; MinIO). */
const AGPL_IMAGE =
  /^(?:docker\.io\/)?(?:grafana\/(?:grafana|k6|loki|tempo|mimir|pyroscope)|minio\/minio)(?:[-:@]|$)/;

/** A setting of the running PostgreSQL, as it answers SHOW. */
async function postgresSetting(name: string): Promise<string> {
  const client = new pg.Client({ connectionString: testInfra().pgAdminUrl });
  await client.connect();
  try {
    const { rows } = await client.query(`SHOW ${name}`);
    return rows[0][name];
  } finally {
    await client.end();
  }
}

describe('infrastructure', () => {
  it('Kafka takes a message and hands the same message back (produce/consume round trip)', async () => {
    const result = await kafkaRoundTrip(testInfra().kafkaBrokers);
    assert.equal(result.brokers, 1);
    assert.ok(result.roundTripMs >= 0);
  });

  it('PostgreSQL acknowledges a commit only once it is durable (synchronous_commit=on), in both modes', async () => {
    assert.equal(await postgresSetting('synchronous_commit'), 'on');
    const compose = readFileSync(join(import.meta.dirname, '..', '..', 'docker-compose.yml'), 'utf8');
    assert.doesNotMatch(compose, /synchronous_commit=off/);
  });

  it('docker-compose.yml runs no AGPL image: ReserveX takes no AGPL dependency', () => {
    const compose = readFileSync(join(import.meta.dirname, '..', '..', 'docker-compose.yml'), 'utf8');
    const images = [...compose.matchAll(/^\s*image:\s*["']?([^\s"']+)/gm)].map((m) => m[1]!);
    assert.ok(
      images.some((image) => image.startsWith('prom/prometheus:')),
      `the images read: ${images.join(', ')}`,
    );
    assert.deepEqual(
      images.filter((image) => AGPL_IMAGE.test(image)),
      [],
    );
  });

  describe('in local mode', () => {
    before(function () {
      // Under testcontainers the servers are throwaway containers, not the local-mode processes checked here.
      if (process.env.RESERVEX_TEST_INFRA === 'testcontainers') this.skip();
    });
    const settings = readInfraSettings(process.env, true);

    it('PostgreSQL checkpoints on time, not every half gigabyte of a booking burst’s WAL (max_wal_size 4GB), here and in docker-compose', async () => {
      assert.equal(await postgresSetting('max_wal_size'), '4GB');
      const compose = readFileSync(join(import.meta.dirname, '..', '..', 'docker-compose.yml'), 'utf8');
      assert.match(compose, /"max_wal_size=4GB"/);
    });

    it('PostgreSQL counts statements (pg_stat_statements) and the services’ role can read them, for bench:saga', async () => {
      const url = new URL(testInfra().pgAdminUrl);
      url.pathname = '/postgres';
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        // Without the library preloaded, reading the view fails ("must be loaded via shared_preload_libraries").
        const counted = await client.query('SELECT count(*)::int AS n FROM pg_stat_statements');
        assert.ok(counted.rows[0].n > 0);
      } finally {
        await client.end();
      }
    });

    it('reports PostgreSQL with all three databases, Redis, Kafka, Prometheus and the edge cache healthy', async () => {
      const report = await checkAll(settings);
      assert.deepEqual(
        report.filter((r) => !r.healthy).map((r) => `${r.component}: ${r.detail}`),
        [],
      );
      assert.deepEqual(report.map((r) => r.component).sort(), [
        'edge',
        'kafka',
        'postgres',
        'prometheus',
        'redis',
      ]);
      const edge = report.find((r) => r.component === 'edge');
      assert.match(edge?.detail ?? '', /^port \d+, nginx \d+\.\d+\.\d+, \/edge-health → 200$/);
    });

    it('reports a component that is not there as unhealthy, the edge naming its log', async () => {
      const wrong = readInfraSettings(
        { ...process.env, REDIS_PORT: '1', KAFKA_PORT: '2', EDGE_PORT: '3' },
        true,
      );
      const report = await checkAll(wrong);
      const byName = Object.fromEntries(report.map((r) => [r.component, r]));
      assert.equal(byName.redis?.healthy, false);
      assert.equal(byName.kafka?.healthy, false);
      assert.equal(byName.edge?.healthy, false);
      assert.match(byName.edge?.detail ?? '', /^port 3: ECONNREFUSED; read .*logs\/edge\.log$/);
    });
  });
});
