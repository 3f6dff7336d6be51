import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type InfraSettings, readInfraSettings } from './infra/settings.ts';
import { InfraProcess } from './infra-process.ts';
import { routeDependencies } from './network-proxies.ts';
import type { ProcessTarget, UnexpectedExit } from './process-target.ts';
import { type RunningServices, startServices } from './start-services.ts';
import { INFRA, type InfraName, type ServiceName, type TargetName } from './target-names.ts';
import type { Targets } from './targets.ts';
import type { Toxiproxy } from './toxiproxy.ts';
import { startWebPage } from './web-page.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

export interface StartedStack {
  /** Requests each running replica of each replicated service has answered: evidence the balancer spread them. */
  replicaLoad(): Promise<Record<string, Array<number | undefined>>>;
  /** Each running process's own /metrics, by service: one per replica of a replicated service. */
  metricsUrls(): Partial<Record<ServiceName, string[]>>;
  started: string[];
  reused: string[];
  targets: Map<TargetName, ProcessTarget>;
  /** Exits the runner did not cause; each is restarted, as an orchestrator would, and fails the run. */
  unexpectedExits: UnexpectedExit[];
  /** Present when the services reach their dependencies through Toxiproxy. */
  toxiproxy: Toxiproxy | undefined;
  /** The fan page and control room, when it could be served. */
  webUrl: string | undefined;
  stop(): Promise<void>;
}

export interface StackOptions {
  logDir: string;
  log: (m: string) => void;
  /** Route every service's connections through Toxiproxy, for network faults. */
  proxied: boolean;
  /** The targets the scenario will crash or configure: each must be owned by this runner, not reused. */
  mustOwn: readonly TargetName[];
  /** The scenario's own settings for the services it starts, over the runner's. */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** False to serve no web page (benches). */
  web?: boolean;
  /** Services to run as several replicas behind HAProxy, on their usual ports; 1 (the default) means one process. */
  replicas?: Partial<Record<ServiceName, number>>;
}

/**
 * Brings up what is missing, in four steps: the infrastructure (npm run infra:up), the network proxies a scenario's
 * faults need, the services not already answering on their ports, and the web page. Each step is undone if a later
 * one fails; `stop` undoes them all.
 */
export async function ensureStack(t: Targets, options: StackOptions): Promise<StartedStack> {
  const { log, logDir } = options;
  const settings = bringUpInfrastructure(options);
  mkdirSync(logDir, { recursive: true });
  const targets = new Map<TargetName, ProcessTarget>();
  const unexpectedExits: UnexpectedExit[] = [];
  const infra = INFRA.map((name) => new InfraProcess(name, settings));
  for (const target of infra) targets.set(target.name, target);

  const routes = await routeDependencies(settings, options.proxied, join(logDir, 'toxiproxy.log'), log);
  let services: RunningServices;
  try {
    services = await startServices(t, routes, options, targets, unexpectedExits);
  } catch (error) {
    await routes.toxiproxy?.stop().catch(() => {});
    throw error;
  }
  const watch = watchInfrastructure(infra, unexpectedExits, log);
  const web = options.web === false ? undefined : await startWebPage(t, log);
  if (web !== undefined) log(`watch it live: ${web.url}#/control (the fan page: ${web.url})`);
  const owned = [...services.started, ...services.groups];
  if (services.reused.length > 0)
    log(`reusing running ${services.reused.join(', ')} (their own settings apply)`);
  if (owned.length > 0) log(`started ${owned.map((s) => s.name).join(', ')}; logs in ${logDir}`);
  return {
    started: owned.map((s) => s.name),
    async replicaLoad() {
      const out: Record<string, Array<number | undefined>> = {};
      for (const g of services.groups)
        out[g.name] = await Promise.all(g.replicas.map((r) => r.requestsServed()));
      return out;
    },
    metricsUrls() {
      const out: Partial<Record<ServiceName, string[]>> = {};
      for (const s of services.started) out[s.name] = [s.metricsUrl];
      for (const g of services.groups) out[g.name] = g.replicas.map((r) => r.metricsUrl);
      return out;
    },
    reused: services.reused,
    targets,
    unexpectedExits,
    toxiproxy: routes.toxiproxy,
    webUrl: web?.url,
    async stop() {
      clearInterval(watch);
      await web?.server?.close();
      await services.stop();
      await routes.toxiproxy?.stop();
    },
  };
}

/** npm run infra:up, and what the scenario asks of it: faults on the servers need local mode, proxies one broker. */
function bringUpInfrastructure(options: StackOptions): InfraSettings {
  const infra = spawnSync(
    process.execPath,
    [join(ROOT, 'stack', 'src', 'infra', 'cli.ts'), 'up', '--quiet'],
    {
      stdio: 'inherit',
    },
  );
  if (infra.status !== 0) throw new Error('the infrastructure did not come up; see .infra/logs/');
  const settings = readInfraSettings(process.env, true);
  if (options.proxied && settings.kafka.nodes > 1)
    throw new Error(
      'network faults put one Kafka listener per service behind Toxiproxy: that needs the single broker',
    );
  const infraFaults = options.mustOwn.filter((n): n is InfraName => (INFRA as readonly string[]).includes(n));
  if ((infraFaults.length > 0 || options.proxied) && process.env.RESERVEX_INFRA_MODE === 'docker')
    throw new Error(
      'faults on Kafka, PostgreSQL or Redis, and network faults, need the local-mode infrastructure',
    );
  return settings;
}

/** Infrastructure that dies without the runner's doing is reported, and started again. */
function watchInfrastructure(
  infra: readonly InfraProcess[],
  unexpectedExits: UnexpectedExit[],
  log: (m: string) => void,
): NodeJS.Timeout {
  return setInterval(() => {
    for (const target of infra) {
      if (!target.diedOnItsOwn()) continue;
      unexpectedExits.push({ target: target.name, at: Date.now(), detail: 'stopped on its own' });
      log(`UNEXPECTED: ${target.name} stopped on its own; starting it again`);
      void target.recover().catch(() => {});
    }
  }, 1000);
}
