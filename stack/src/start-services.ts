import { join } from 'node:path';
import { LoadBalancer, REPLICA_DRAIN_DELAY_MS, replicaPort } from './load-balancer.ts';
import { type DependencyRoutes, withPort } from './network-proxies.ts';
import type { ProcessTarget, UnexpectedExit } from './process-target.ts';
import { healthyService, ReplicaGroup, ServiceProcess } from './service-process.ts';
import { type ServiceSpec, serviceSpecs } from './service-settings.ts';
import type { ServiceName, TargetName } from './target-names.ts';
import type { Targets } from './targets.ts';

export interface ServiceOptions {
  logDir: string;
  log: (m: string) => void;
  proxied: boolean;
  mustOwn: readonly TargetName[];
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  replicas?: Partial<Record<ServiceName, number>>;
}

/** What the runner started (one process, or replicas behind HAProxy) and what it found running already. */
export interface RunningServices {
  started: ServiceProcess[];
  groups: ReplicaGroup[];
  reused: string[];
  balancer: LoadBalancer | undefined;
  stop(): Promise<void>;
}

/**
 * Starts every service not already answering on its port, in order, and waits until each is healthy. One that
 * must be owned (the scenario crashes it, configures it, replicates it or proxies it) and is running already is an
 * error. A start that fails half-way stops what it started: nothing is left holding ports for the next run.
 */
export async function startServices(
  t: Targets,
  routes: DependencyRoutes,
  options: ServiceOptions,
  targets: Map<TargetName, ProcessTarget>,
  unexpectedExits: UnexpectedExit[],
): Promise<RunningServices> {
  const specs = serviceSpecs(t, routes);
  const count = (svc: ServiceSpec) => options.replicas?.[svc.name] ?? 1;
  const replicated = specs.filter((svc) => count(svc) > 1);
  if (replicated.length > 0 && options.proxied)
    throw new Error('replicas and network faults do not go together yet: Toxiproxy has one pair per service');
  const running: RunningServices = {
    started: [],
    groups: [],
    reused: [],
    balancer: undefined,
    async stop() {
      await Promise.all(
        [...running.started, ...running.groups.flatMap((g) => g.everStarted)].map((s) => s.stop()),
      );
      await running.balancer?.stop();
    },
  };
  try {
    for (const svc of specs) {
      if (await healthyService(svc.url, svc.name)) {
        if (options.mustOwn.includes(svc.name) || options.proxied || count(svc) > 1)
          throw new Error(
            `${svc.name} is already running on ${svc.url}: this scenario crashes it, configures it, runs it as replicas or puts it behind a proxy, so the runner must start it itself. Stop it first.`,
          );
        running.reused.push(svc.name);
        continue;
      }
      const replica = (index: number | undefined) => aServiceProcess(svc, index, options, unexpectedExits);
      if (count(svc) > 1) {
        if (running.balancer === undefined) {
          running.balancer = new LoadBalancer();
          await running.balancer.start(
            replicated.map((r) => ({ name: r.name, publicPort: Number(new URL(r.url).port) })),
            options.logDir,
            options.log,
          );
        }
        const group = new ReplicaGroup(svc.name, (i) => replica(i));
        running.groups.push(group);
        await group.scaleTo(count(svc));
        targets.set(svc.name, group);
        options.log(`${svc.name}: ${count(svc)} replicas behind HAProxy on ${svc.url}`);
        continue;
      }
      const one = replica(undefined);
      running.started.push(one);
      await one.start();
      targets.set(svc.name, one);
    }
  } catch (error) {
    await Promise.all(
      [...running.started, ...running.groups.flatMap((g) => g.everStarted)].map((p) =>
        p.stop().catch(() => {}),
      ),
    );
    await running.balancer?.stop().catch(() => {});
    throw error;
  }
  return running;
}

/** One process of a service: on its usual port, or, as replica `index`, on that replica's port behind HAProxy. */
function aServiceProcess(
  svc: ServiceSpec,
  index: number | undefined,
  options: ServiceOptions,
  unexpectedExits: UnexpectedExit[],
): ServiceProcess {
  const label = index === undefined ? svc.name : `${svc.name}-${index + 1}`;
  const url =
    index === undefined ? svc.url : withPort(svc.url, replicaPort(Number(new URL(svc.url).port), index));
  return new ServiceProcess(
    svc.name,
    url.replace(/\/$/, ''),
    {
      ...svc.env,
      ...(index === undefined ? {} : { SHUTDOWN_DRAIN_DELAY_MS: String(REPLICA_DRAIN_DELAY_MS) }),
      ...options.serviceEnv?.[svc.name],
      PORT: new URL(url).port,
    },
    join(options.logDir, `${label}.log`),
    (detail) => {
      unexpectedExits.push({ target: svc.name, at: Date.now(), detail: `${label} ${detail}` });
      options.log(`UNEXPECTED: ${label} ${detail}`);
    },
  );
}
