import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type InfraSettings, kafkaBootstrap } from './settings.ts';

export interface ComponentHealth {
  component: string;
  healthy: boolean;
  detail: string;
}

async function withDeadline<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms}ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One connection to the Redis (or sentinel) on `port` for `work`, closed after it; no retries, no reconnects. */
export async function withRedis<T>(port: number, work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // connect() rejects on its own; without a listener the same failure is printed again as "Unhandled error event".
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

export function pingRedis(port: number): Promise<string> {
  return withRedis(port, (redis) => redis.ping());
}

export async function prometheusReady(port: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}/-/ready`, { signal: AbortSignal.timeout(2000) });
  return response.ok;
}

/** The edge's own answer, which nginx gives without asking ticket-service, and the version it reports. */
export async function edgeHealth(port: number): Promise<{ status: number; version: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/edge-health`, { signal: AbortSignal.timeout(2000) });
  await response.body?.cancel();
  return { status: response.status, version: response.headers.get('x-edge-version') ?? 'unknown' };
}

async function checkPostgres(s: InfraSettings): Promise<ComponentHealth> {
  const reached: string[] = [];
  for (const database of s.postgres.databases) {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: s.postgres.port,
      user: s.postgres.user,
      password: s.postgres.password,
      database,
      connectionTimeoutMillis: 3000,
    });
    try {
      await client.connect();
      await client.query('SELECT 1');
      reached.push(database);
    } catch (error) {
      return {
        component: 'postgres',
        healthy: false,
        detail: `database "${database}": ${(error as Error).message}`,
      };
    } finally {
      await client.end().catch(() => {});
    }
  }
  return {
    component: 'postgres',
    healthy: true,
    detail: `port ${s.postgres.port}, databases ${reached.join(', ')}`,
  };
}

async function checkRedis(s: InfraSettings): Promise<ComponentHealth> {
  try {
    const answer = await withDeadline(3000, 'PING', pingRedis(s.redis.port));
    return {
      component: 'redis',
      healthy: answer === 'PONG',
      detail: `port ${s.redis.port}, PING → ${answer}`,
    };
  } catch (error) {
    return {
      component: 'redis',
      healthy: false,
      detail: `port ${s.redis.port}: ${(error as Error).message}`,
    };
  }
}

const HEALTH_TOPIC = 'infra.healthcheck';

/** Metadata, then one message produced and read back: a broker that only answers metadata is not healthy. */
export async function kafkaRoundTrip(bootstrap: string): Promise<{ brokers: number; roundTripMs: number }> {
  const bootstrapBrokers = bootstrap.split(',');
  const admin = new Admin({ clientId: 'infra-health', bootstrapBrokers, retries: 0 });
  const producer = new Producer({
    clientId: 'infra-health',
    bootstrapBrokers,
    serializers: stringSerializers,
  });
  const consumer = new Consumer({
    clientId: 'infra-health',
    groupId: `infra-health-${randomUUID()}`,
    bootstrapBrokers,
    deserializers: stringDeserializers,
  });
  try {
    const metadata = await admin.metadata({ topics: [] });
    const topics = await admin.listTopics();
    if (!topics.includes(HEALTH_TOPIC)) {
      await admin
        .createTopics({
          topics: [HEALTH_TOPIC],
          partitions: 1,
          configs: [{ name: 'retention.ms', value: '3600000' }],
        })
        .catch((error: Error) => {
          if (
            !/already exists/i.test(
              error.message + JSON.stringify((error as { errors?: unknown }).errors ?? ''),
            )
          ) {
            throw error;
          }
        });
    }
    const token = randomUUID();
    const started = performance.now();
    const result = await producer.send({
      messages: [{ topic: HEALTH_TOPIC, key: token, value: token, partition: 0 }],
    });
    const offset = result.offsets?.[0]?.offset ?? 0n;
    const stream = await consumer.consume({
      topics: [HEALTH_TOPIC],
      mode: 'manual',
      offsets: [{ topic: HEALTH_TOPIC, partition: 0, offset }],
      autocommit: false,
      maxWaitTime: 200,
    });
    try {
      for await (const message of stream) {
        if (message.value === token) break;
      }
    } finally {
      await stream.close();
    }
    return { brokers: metadata.brokers.size, roundTripMs: Math.round(performance.now() - started) };
  } finally {
    await Promise.allSettled([consumer.close(true), producer.close(), admin.close()]);
  }
}

async function checkKafka(s: InfraSettings): Promise<ComponentHealth> {
  try {
    const { brokers, roundTripMs } = await withDeadline(
      20_000,
      'produce/consume round trip',
      kafkaRoundTrip(kafkaBootstrap(s)),
    );
    return {
      component: 'kafka',
      healthy: brokers >= s.kafka.nodes,
      detail: `${kafkaBootstrap(s)}, ${brokers} of ${s.kafka.nodes} broker(s), produce→consume round trip ${roundTripMs}ms`,
    };
  } catch (error) {
    return {
      component: 'kafka',
      healthy: false,
      detail: `port ${s.kafka.port}: ${(error as Error).message}`,
    };
  }
}

async function checkPrometheus(s: InfraSettings): Promise<ComponentHealth> {
  try {
    const ready = await prometheusReady(s.prometheus.port);
    return { component: 'prometheus', healthy: ready, detail: `port ${s.prometheus.port}, /-/ready` };
  } catch (error) {
    return {
      component: 'prometheus',
      healthy: false,
      detail: `port ${s.prometheus.port}: ${(error as Error).message}`,
    };
  }
}

/** fetch says only "fetch failed"; the reason (ECONNREFUSED, a timeout) is in its cause. */
function fetchFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

async function checkEdge(s: InfraSettings): Promise<ComponentHealth> {
  const log = join(s.stateDir, 'logs', 'edge.log');
  try {
    const { status, version } = await edgeHealth(s.edge.port);
    return {
      component: 'edge',
      healthy: status === 200,
      detail: `port ${s.edge.port}, nginx ${version}, /edge-health → ${status}${status === 200 ? '' : `; read ${log}`}`,
    };
  } catch (error) {
    return {
      component: 'edge',
      healthy: false,
      detail: `port ${s.edge.port}: ${fetchFailure(error)}; read ${log}`,
    };
  }
}

export function checkAll(s: InfraSettings): Promise<ComponentHealth[]> {
  return Promise.all([checkPostgres(s), checkRedis(s), checkKafka(s), checkPrometheus(s), checkEdge(s)]);
}
