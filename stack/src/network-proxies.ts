import type { InfraSettings } from './infra/settings.ts';
import type { InfraName, ServiceName } from './target-names.ts';
import { type ProxySpec, Toxiproxy } from './toxiproxy.ts';

export type ProxiedLink = ProxySpec & { service: ServiceName; dependency: InfraName };

/** Each (service, dependency) pair a network fault can come between, and the proxy port it goes through. */
export function proxyPlan(s: InfraSettings): ProxiedLink[] {
  const kafka = (name: string) => s.kafka.proxiedListeners.find((l) => l.name === name)!;
  const pg = s.postgres.port;
  const redis = s.redis.port;
  return [
    { service: 'ticket-service', dependency: 'postgres', listenPort: pg + 20_000, upstreamPort: pg },
    { service: 'payment-service', dependency: 'postgres', listenPort: pg + 20_001, upstreamPort: pg },
    { service: 'account-service', dependency: 'postgres', listenPort: pg + 20_002, upstreamPort: pg },
    { service: 'ticket-service', dependency: 'redis', listenPort: redis + 20_000, upstreamPort: redis },
    { service: 'account-service', dependency: 'redis', listenPort: redis + 20_001, upstreamPort: redis },
    {
      service: 'ticket-service',
      dependency: 'kafka',
      listenPort: kafka('TICKET').advertisedPort,
      upstreamPort: kafka('TICKET').port,
    },
    {
      service: 'payment-service',
      dependency: 'kafka',
      listenPort: kafka('PAYMENT').advertisedPort,
      upstreamPort: kafka('PAYMENT').port,
    },
  ].map((p) => ({ ...p, name: `${p.service}-${p.dependency}` }) as ProxiedLink);
}

export function withPort(url: string, port: number): string {
  const u = new URL(url);
  u.port = String(port);
  return u.toString();
}

/**
 * Where each service reaches its dependencies: straight, or through Toxiproxy when the scenario puts network faults
 * between them (then started here, one proxy per pair).
 */
export interface DependencyRoutes {
  toxiproxy: Toxiproxy | undefined;
  /** The URL a service uses for a dependency (PostgreSQL or Redis). */
  via(service: ServiceName, dependency: InfraName, url: string): string;
  /** The Kafka bootstrap list a service uses. */
  kafkaVia(service: ServiceName, brokers: readonly string[]): string;
}

export async function routeDependencies(
  settings: InfraSettings,
  proxied: boolean,
  logFile: string,
  log: (m: string) => void,
): Promise<DependencyRoutes> {
  const plan = proxyPlan(settings);
  const link = (service: ServiceName, dependency: InfraName) =>
    plan.find((p) => p.service === service && p.dependency === dependency)!;
  let toxiproxy: Toxiproxy | undefined;
  if (proxied) {
    toxiproxy = new Toxiproxy();
    await toxiproxy.start(logFile, log);
    await toxiproxy.createProxies(plan);
    log(`network faults go through Toxiproxy: ${plan.map((p) => p.name).join(', ')}`);
  }
  return {
    toxiproxy,
    via: (service, dependency, url) => (proxied ? withPort(url, link(service, dependency).listenPort) : url),
    kafkaVia: (service, brokers) =>
      proxied ? `127.0.0.1:${link(service, 'kafka').listenPort}` : brokers.join(','),
  };
}
