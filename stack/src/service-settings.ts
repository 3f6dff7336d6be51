import type { DependencyRoutes } from './network-proxies.ts';
import type { ServiceName } from './target-names.ts';
import type { Targets } from './targets.ts';
import { webOrigins } from './web-page.ts';

export interface ServiceSpec {
  name: ServiceName;
  url: string;
  env: NodeJS.ProcessEnv;
}

/**
 * The services in the order they start, each with the settings fit for a load run: cheap password hashing so
 * thousands of fans can sign up on two cores, and no per-address login or queue-join limit, since every fan comes
 * from 127.0.0.1.
 */
export function serviceSpecs(t: Targets, routes: DependencyRoutes): ServiceSpec[] {
  const { via, kafkaVia } = routes;
  const env = (url: string, extra: Record<string, string>) => ({
    ...process.env,
    PORT: new URL(url).port,
    LOG_LEVEL: 'warn',
    DATABASE_POOL_MAX: '30',
    CORS_ORIGINS: process.env.CORS_ORIGINS ?? webOrigins(t),
    ...extra,
  });
  return [
    {
      name: 'account-service',
      url: t.account,
      env: env(t.account, {
        DATABASE_URL: via('account-service', 'postgres', t.accountDb),
        REDIS_URL: via('account-service', 'redis', t.ticketRedis),
        PASSWORD_SCRYPT_LOG2N: '8',
        // At N=2^8 a hash takes about a millisecond: the crowd's sign-ins may queue for it freely.
        PASSWORD_HASH_QUEUE: '10000',
        // Every load-test fan signs up from 127.0.0.1.
        SIGNUP_LIMIT_PER_IP: '1000000000',
        LOGIN_LIMIT_PER_IP: '1000000000',
        LOGIN_LIMIT_PER_ACCOUNT: '1000',
        // A stadium's crowd signs in before its sale, which can then run longer than the default 15 minutes.
        ACCESS_TOKEN_TTL_SECONDS: '3600',
        // A million fans get their tokens minted in bulk by the admin (loadgen's mintSessions), not a login each:
        // admin-only, and a setting production refuses to start with.
        BULK_SESSIONS_ENABLED: 'true',
        ADMIN_EMAIL: t.adminEmail,
        ADMIN_PASSWORD: t.adminPassword,
      }),
    },
    {
      name: 'ticket-service',
      url: t.ticket,
      // Every fan joins the queue from 127.0.0.1: the per-address join limit would count the whole crowd as one.
      env: env(t.ticket, {
        DATABASE_URL: via('ticket-service', 'postgres', t.ticketDb),
        REDIS_URL: via('ticket-service', 'redis', t.ticketRedis),
        KAFKA_BROKERS: kafkaVia('ticket-service', t.kafkaBrokers),
        ACCOUNT_JWKS_URL: `${t.account}/.well-known/jwks.json`,
        QUEUE_JOIN_LIMIT_PER_IP: '1000000000',
      }),
    },
    // Outside the system under test: its faults are the scenario's, set through its API, never the network's.
    {
      name: 'payment-provider',
      url: t.provider,
      env: env(t.provider, { DATABASE_URL: t.providerDb, PROVIDER_API_KEY: t.providerApiKey }),
    },
    {
      name: 'payment-service',
      url: t.payment,
      env: env(t.payment, {
        DATABASE_URL: via('payment-service', 'postgres', t.paymentDb),
        KAFKA_BROKERS: kafkaVia('payment-service', t.kafkaBrokers),
        ACCOUNT_JWKS_URL: `${t.account}/.well-known/jwks.json`,
        PROVIDER_URL: t.provider,
        PROVIDER_API_KEY: t.providerApiKey,
      }),
    },
  ];
}
