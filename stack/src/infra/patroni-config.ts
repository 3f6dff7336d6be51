import type { PgCluster } from './settings.ts';

/** What one node's Patroni needs to know of this machine, beside the cluster's settings. */
export interface PatroniNodePaths {
  dataDir: string;
  socketDir: string;
  pgpass: string;
  binDir: string;
}

/**
 * Failover timing. The leader key lives `ttl` seconds (Patroni's minimum, 20) unless renewed, so a lost primary
 * is replaced about 20 s after it died: inside the 30 s RTO goal. Patroni requires loop_wait + 2 × retry_timeout
 * ≤ ttl.
 */
export const PATRONI_TIMING = { ttl: 20, loop_wait: 2, retry_timeout: 5 } as const;

/**
 * The settings every node shares, kept by Patroni in etcd. The same as the single server's (durable commits,
 * logical WAL for the harness's change capture, statement counts) plus replication. With `synchronous_mode`,
 * Patroni names one standby in synchronous_standby_names, so a commit is acknowledged only once that standby has
 * its WAL, and only that standby may be promoted: RPO 0. `synchronous_mode_strict` stays off, so that with
 * no standby left the primary goes on alone rather than refusing every write; the loss of a second node before
 * a replacement has caught up is outside what this cluster promises.
 */
export function patroniDynamicConfig(c: PgCluster, synchronousCommit: 'on' | 'off') {
  return {
    ...PATRONI_TIMING,
    // Patroni's default. It is the only guard asynchronous replication would have, and it is not one: a standby
    // up to 1 MB behind may take over (mutants/catalogue.json: pg-standby-asynchronous).
    maximum_lag_on_failover: 1_048_576,
    synchronous_mode: c.synchronousStandby,
    synchronous_mode_strict: false,
    // The harness's change capture makes its own logical slots (loadgen/src/wal); Patroni drops slots it does not
    // know of at every change of members unless told to leave them alone.
    ignore_slots: [{ type: 'logical', plugin: 'pgoutput' }],
    postgresql: {
      // A node that was the primary may have written past the point its successor took over (at the least its
      // shutdown checkpoint, when the cluster is stopped): pg_rewind brings it back in line as a standby.
      use_pg_rewind: true,
      use_slots: true,
      parameters: {
        synchronous_commit: synchronousCommit,
        wal_level: 'logical',
        max_wal_senders: 10,
        max_replication_slots: 10,
        wal_keep_size: '512MB',
        hot_standby: 'on',
        max_connections: 400,
        shared_buffers: '256MB',
        max_wal_size: '4GB',
        shared_preload_libraries: 'pg_stat_statements',
      },
    },
  };
}

/** One node's Patroni configuration. JSON is YAML, so Patroni reads it as it is. */
export function patroniNodeConfig(
  c: PgCluster,
  node: PgCluster['nodes'][number],
  paths: PatroniNodePaths,
  synchronousCommit: 'on' | 'off',
): string {
  const config = {
    scope: 'reservex',
    name: node.name,
    restapi: {
      listen: `127.0.0.1:${node.restPort}`,
      connect_address: `127.0.0.1:${node.restPort}`,
    },
    etcd3: { hosts: [`127.0.0.1:${c.etcd.clientPort}`] },
    bootstrap: {
      dcs: patroniDynamicConfig(c, synchronousCommit),
      initdb: [{ encoding: 'UTF8' }, { locale: 'C' }],
    },
    postgresql: {
      listen: `127.0.0.1:${node.port}`,
      // Where the other nodes replicate from this one: through the delaying link when there is one.
      connect_address: `127.0.0.1:${c.linkDelayMs > 0 ? node.linkPort : node.port}`,
      data_dir: paths.dataDir,
      bin_dir: paths.binDir,
      pgpass: paths.pgpass,
      use_unix_socket: true,
      authentication: {
        superuser: { username: 'postgres', password: c.superuserPassword },
        replication: { username: 'replicator', password: c.replicationPassword },
      },
      parameters: { unix_socket_directories: paths.socketDir },
      // And when it cannot be rewound, it is cloned again from the primary: a standby's data is the primary's.
      remove_data_directory_on_rewind_failure: true,
      remove_data_directory_on_diverged_timelines: true,
      pg_hba: [
        'local all all trust',
        'host replication all 127.0.0.1/32 scram-sha-256',
        'host all all 127.0.0.1/32 scram-sha-256',
      ],
    },
    // A node started again after it was lost comes back empty, and is cloned from the primary.
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
