import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { haRouterConfig } from '../src/infra/ha-router.ts';
import { PATRONI_TIMING, patroniNodeConfig } from '../src/infra/patroni-config.ts';
import { clusterSuperuser } from '../src/infra/patroni-rest.ts';
import { readInfraSettings } from '../src/infra/settings.ts';

const PATHS = { dataDir: '/d', socketDir: '/s', pgpass: '/p', binDir: '/usr/lib/postgresql/15/bin' };

function cluster(env: NodeJS.ProcessEnv) {
  const s = readInfraSettings({ PG_CLUSTER: '3', ...env }, true);
  assert.ok(s.postgres.cluster);
  return { s, c: s.postgres.cluster };
}

describe('replicated PostgreSQL and Redis (PG_CLUSTER=3, REDIS_SENTINEL=3)', () => {
  it('are off by default, and a size other than 1 or 3 is refused by name', () => {
    const s = readInfraSettings({}, true);
    assert.equal(s.postgres.cluster, undefined);
    assert.equal(s.redis.sentinel, undefined);
    assert.throws(() => readInfraSettings({ PG_CLUSTER: '2' }, true), /PG_CLUSTER must be 1 or 3, got "2"/);
    assert.throws(() => readInfraSettings({ REDIS_SENTINEL: 'yes' }, true), /REDIS_SENTINEL must be 1 or 3/);
    assert.throws(
      () => readInfraSettings({ PG_CLUSTER: '3', PG_UNSAFE_ASYNC_STANDBY: 'maybe' }, true),
      /PG_UNSAFE_ASYNC_STANDBY must be true or false/,
    );
  });

  it('put three PostgreSQL nodes beside PG_PORT and the router on it, each node with a Patroni REST port', () => {
    const { c } = cluster({ PG_PORT: '6432', PATRONI_PORT: '9008' });
    assert.deepEqual(
      c.nodes.map((n) => [n.name, n.port, n.restPort]),
      [
        ['pg1', 6433, 9008],
        ['pg2', 6434, 9009],
        ['pg3', 6435, 9010],
      ],
    );
    const router = haRouterConfig(
      readInfraSettings({ PG_CLUSTER: '3', PG_PORT: '6432', PATRONI_PORT: '9008' }, true),
    );
    assert.match(router, /listen postgres\n {2}bind 127\.0\.0\.1:6432\n/);
    // Only the node whose Patroni says it is the primary gets clients, and a demoted one loses its sessions.
    assert.match(router, /http-check send meth OPTIONS uri \/primary\n {2}http-check expect status 200/);
    assert.match(router, /on-marked-down shutdown-sessions/);
    for (const n of c.nodes)
      assert.match(router, new RegExp(`server ${n.name} 127\\.0\\.0\\.1:${n.port} check port ${n.restPort}`));
    assert.doesNotMatch(router, /listen redis/);
  });

  it('acknowledge a commit only once a standby has it, unless PG_UNSAFE_ASYNC_STANDBY=true says otherwise by name', () => {
    const { c } = cluster({});
    const safe = JSON.parse(patroniNodeConfig(c, c.nodes[1]!, PATHS, 'on'));
    assert.equal(safe.name, 'pg2');
    assert.equal(safe.bootstrap.dcs.synchronous_mode, true);
    assert.equal(safe.bootstrap.dcs.postgresql.parameters.synchronous_commit, 'on');
    assert.equal(safe.bootstrap.dcs.postgresql.parameters.wal_level, 'logical');
    assert.equal(safe.postgresql.listen, '127.0.0.1:5434');
    assert.ok(safe.postgresql.pg_hba.includes('host replication all 127.0.0.1/32 scram-sha-256'));
    // The harness's own logical slots survive Patroni's housekeeping.
    assert.deepEqual(safe.bootstrap.dcs.ignore_slots, [{ type: 'logical', plugin: 'pgoutput' }]);

    const { c: unsafe } = cluster({ PG_UNSAFE_ASYNC_STANDBY: 'true' });
    assert.equal(
      JSON.parse(patroniNodeConfig(unsafe, unsafe.nodes[0]!, PATHS, 'on')).bootstrap.dcs.synchronous_mode,
      false,
    );
  });

  it('replicate through links as long as PG_LINK_DELAY_MS says, and only replication: clients reach the nodes directly', () => {
    const { c: direct } = cluster({});
    assert.equal(direct.linkDelayMs, 0);
    assert.equal(
      JSON.parse(patroniNodeConfig(direct, direct.nodes[0]!, PATHS, 'on')).postgresql.connect_address,
      '127.0.0.1:5433',
    );
    const { s, c } = cluster({ PG_LINK_DELAY_MS: '10' });
    assert.equal(c.linkDelayMs, 10);
    assert.equal(
      JSON.parse(patroniNodeConfig(c, c.nodes[0]!, PATHS, 'on')).postgresql.connect_address,
      '127.0.0.1:5443',
    );
    assert.match(haRouterConfig(s), /server pg1 127\.0\.0\.1:5433 check/);
    assert.throws(
      () => cluster({ PG_LINK_DELAY_MS: '-1' }),
      /PG_LINK_DELAY_MS must be a whole number of milliseconds/,
    );
  });

  it('a delaying link passes every byte through, in order, both ways', async () => {
    const echo = createServer((socket) => socket.pipe(socket)).listen(0, '127.0.0.1');
    await once(echo, 'listening');
    const target = (echo.address() as { port: number }).port;
    const listen = 40_000 + Math.floor(Math.random() * 20_000);
    const link = spawn(process.execPath, [
      join(import.meta.dirname, '..', 'src', 'infra', 'link-delay.ts'),
      String(listen),
      String(target),
      '5',
    ]);
    try {
      // The link takes a moment to listen.
      const connect = () =>
        new Promise<Socket | undefined>((resolve) => {
          const socket = createConnection({ port: listen, host: '127.0.0.1' });
          socket.once('connect', () => resolve(socket));
          socket.once('error', () => resolve(undefined));
        });
      let client = await connect();
      for (let tries = 0; client === undefined && tries < 50; tries++) {
        await sleep(100);
        client = await connect();
      }
      assert.ok(client, 'the link never listened');
      const sent = Array.from({ length: 200 }, (_, i) => `${i};`).join('');
      let received = '';
      client.on('data', (chunk) => {
        received += chunk.toString();
      });
      for (let i = 0; i < 200; i++) client.write(`${i};`);
      while (received.length < sent.length) await sleep(20);
      assert.equal(received, sent);
      client.destroy();
    } finally {
      link.kill();
      echo.close();
    }
  });

  it("fail over within the RTO goal: Patroni's own rule holds and the leader key lives at most 20 s", () => {
    const { ttl, loop_wait, retry_timeout } = PATRONI_TIMING;
    assert.ok(loop_wait + 2 * retry_timeout <= ttl, 'Patroni refuses loop_wait + 2 × retry_timeout > ttl');
    assert.ok(ttl <= 20);
  });

  it('put the Redis nodes beside REDIS_PORT and route to the one that says role:master', () => {
    const s = readInfraSettings({ REDIS_SENTINEL: '3', REDIS_PORT: '7379', SENTINEL_PORT: '27379' }, true);
    assert.deepEqual(s.redis.sentinel, {
      nodePorts: [7380, 7381],
      sentinelPorts: [27379, 27380, 27381],
      masterName: 'reservex',
    });
    const router = haRouterConfig(s);
    assert.match(router, /listen redis\n {2}bind 127\.0\.0\.1:7379\n/);
    assert.match(router, /tcp-check expect string role:master/);
    assert.match(router, /server redis1 127\.0\.0\.1:7380 check\n {2}server redis2 127\.0\.0\.1:7381 check/);
    assert.doesNotMatch(router, /listen postgres/);
  });

  describe('running (when the infrastructure was brought up with PG_CLUSTER=3)', () => {
    const s = readInfraSettings(process.env, true);
    before(function () {
      if (s.postgres.cluster === undefined) this.skip();
    });

    it('has a synchronous standby streaming, and the router reaches the primary', async () => {
      const c = s.postgres.cluster!;
      const client = new pg.Client(clusterSuperuser(s));
      await client.connect();
      try {
        const primary = await client.query('SELECT pg_is_in_recovery() AS standby');
        assert.equal(primary.rows[0].standby, false);
        const { rows } = await client.query('SELECT application_name, sync_state FROM pg_stat_replication');
        assert.equal(
          rows.filter((r) => r.sync_state === 'sync').length,
          c.synchronousStandby ? 1 : 0,
          JSON.stringify(rows),
        );
        assert.equal(rows.length, 2, JSON.stringify(rows));
      } finally {
        await client.end();
      }
    });
  });
});
