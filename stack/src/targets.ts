import { kafkaBootstrap, readInfraSettings } from './infra/settings.ts';

/** Where the system under test lives: service URLs, plus the databases and broker the checker reads. */
export interface Targets {
  account: string;
  ticket: string;
  /**
   * The edge cache in front of ticket-service (nginx, started by the infrastructure), as a CDN would be in
   * production: what it may cache, every fan shares. Its answers say HIT, MISS, … in X-Cache-Status.
   */
  edge: string;
  payment: string;
  /** The simulated card acquirer payment-service pays through, and its own books. */
  provider: string;
  providerApiKey: string;
  accountDb: string;
  ticketDb: string;
  paymentDb: string;
  providerDb: string;
  kafkaBrokers: string[];
  topicPrefix: string;
  /** ticket-service's Redis, where the waiting room lives. */
  ticketRedis: string;
  ticketRedisPrefix: string;
  adminEmail: string;
  adminPassword: string;
  /** Where the report reads the dashboards' series from; the run goes on without it. */
  prometheus: string;
  /** The fan page and control room (web/), served by the runner and by npm run dev. */
  web: string;
}

export function defaultTargets(env: NodeJS.ProcessEnv): Targets {
  const pg = (db: string) => `postgres://reservex:reservex@127.0.0.1:${env.PG_PORT ?? 5432}/${db}`;
  return {
    account: env.ACCOUNT_URL ?? 'http://127.0.0.1:8081',
    ticket: env.TICKET_URL ?? 'http://127.0.0.1:8080',
    edge: env.EDGE_URL ?? `http://127.0.0.1:${env.EDGE_PORT ?? 8090}`,
    payment: env.PAYMENT_URL ?? 'http://127.0.0.1:8082',
    provider: env.PROVIDER_URL ?? 'http://127.0.0.1:8083',
    providerApiKey: env.PROVIDER_API_KEY ?? 'reservex-development-provider-key-change-me',
    accountDb: env.ACCOUNT_DATABASE_URL ?? pg('account'),
    ticketDb: env.TICKET_DATABASE_URL ?? pg('ticket'),
    paymentDb: env.PAYMENT_DATABASE_URL ?? pg('payment'),
    providerDb: env.PROVIDER_DATABASE_URL ?? pg('provider'),
    kafkaBrokers: (env.KAFKA_BROKERS ?? kafkaBootstrap(readInfraSettings(env, true))).split(','),
    topicPrefix: env.KAFKA_TOPIC_PREFIX ?? '',
    ticketRedis: env.REDIS_URL ?? `redis://127.0.0.1:${env.REDIS_PORT ?? 6379}`,
    ticketRedisPrefix: env.TICKET_REDIS_KEY_PREFIX ?? 'ticket:',
    adminEmail: env.ADMIN_EMAIL ?? 'admin@reservex.local',
    adminPassword: env.ADMIN_PASSWORD ?? 'reservex-admin',
    prometheus: env.PROMETHEUS_URL ?? `http://127.0.0.1:${env.PROMETHEUS_PORT ?? 9090}`,
    web: env.WEB_URL ?? 'http://127.0.0.1:5173',
  };
}
