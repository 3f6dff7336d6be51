import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startKafka } from '../../scripts/infra/local-kafka.ts';
import { startPostgres } from '../../scripts/infra/local-postgres.ts';
import { startRedis } from '../../scripts/infra/local-redis.ts';
import { isAlive, managed, runningPid } from '../../scripts/infra/processes.ts';
import { type InfraSettings, readInfraSettings } from '../../scripts/infra/settings.ts';
import { INFRA, type InfraName, type ServiceName, type TargetName } from './chaos/target-names.ts';
import { type ProxySpec, Toxiproxy } from './chaos/toxiproxy.ts';
import { endWithThisProcess } from './child-reaper.ts';
import { LoadBalancer, MAX_REPLICAS, REPLICA_DRAIN_DELAY_MS, replicaPort } from './load-balancer.ts';
import type { Targets } from './targets.ts';
import { startWebPage, webOrigins } from './web-page.ts';

export type { TargetName } from './chaos/target-names.ts';

/** Something the runner can crash and bring back, as an orchestrator would. */
export interface ProcessTarget {
  name: TargetName;
  isUp(): boolean;
  /** Sends the signal (the whole process group for infrastructure) and waits until the process is gone. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** A graceful stop: SIGTERM, and wait. */
  stop(): Promise<void>;
  /** Starts it again and waits until it is healthy. */
  start(): Promise<void>;
  pause(): void;
  resume(): void;
  /** For a replicated service: start or stop replicas until there are `n` (replica churn). */
  scaleTo?(n: number): Promise<void>;
}

export interface UnexpectedExit {
  target: TargetName;
  at: number;
  detail: string;
}

export interface StartedStack {
  /** Requests each running replica of each replicated service has answered: evidence the balancer spread them. */
  replicaLoad(): Promise<Record<string, Array<number | undefined>>>;
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

const ROOT = resolve(import.meta.dirname, '..', '..');

async function healthyService(url: string, name: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/actuator/health`, { signal: AbortSignal.timeout(1500) });
    const body = (await res.json()) as { service?: string; status?: string };
    return res.ok && body.service === name && body.status === 'UP';
  } catch {
    return false;
  }
}

/** Each (service, dependency) pair a network fault can come between, and the proxy port it goes through. */
export function proxyPlan(
  s: InfraSettings,
): Array<ProxySpec & { service: ServiceName; dependency: InfraName }> {
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
  ].map(
    (p) =>
      ({ ...p, name: `${p.service}-${p.dependency}` }) as ProxySpec & {
        service: ServiceName;
        dependency: InfraName;
      },
  );
}

function withPort(url: string, port: number): string {
  const u = new URL(url);
  u.port = String(port);
  return u.toString();
}

/** A service the runner started, restartable with the same environment. */
class ServiceProcess implements ProcessTarget {
  readonly name: ServiceName;
  readonly #url: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #logFile: string;
  readonly #onUnexpectedExit: (detail: string) => void;
  #child: ChildProcess | undefined;
  #expectingExit = false;

  constructor(
    name: ServiceName,
    url: string,
    env: NodeJS.ProcessEnv,
    logFile: string,
    onUnexpectedExit: (detail: string) => void,
  ) {
    this.name = name;
    this.#url = url;
    this.#env = env;
    this.#logFile = logFile;
    this.#onUnexpectedExit = onUnexpectedExit;
  }

  isUp(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** HTTP requests this process has answered, from its own /metrics; undefined when it cannot say. */
  async requestsServed(): Promise<number | undefined> {
    try {
      const res = await fetch(`${this.#url}/metrics`, { signal: AbortSignal.timeout(2000) });
      return (await res.text())
        .split('\n')
        .filter((l) => l.startsWith('http_server_request_duration_seconds_count{'))
        .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    } catch {
      return undefined;
    }
  }

  async start(): Promise<void> {
    const out = openSync(this.#logFile, 'a');
    const child = endWithThisProcess(
      spawn(process.execPath, [join(ROOT, 'system', this.name, 'src', 'main.ts')], {
        env: this.#env,
        stdio: ['ignore', out, out],
      }),
    );
    this.#child = child;
    this.#expectingExit = false;
    child.once('exit', (code, signal) => {
      if (this.#expectingExit || this.#child !== child) return;
      this.#onUnexpectedExit(`exited on its own (code ${code}, signal ${signal}); read ${this.#logFile}`);
      // As an orchestrator would: bring it back, and let the run fail on the exit.
      setTimeout(() => void this.start().catch(() => {}), 1000);
    });
    const deadline = Date.now() + 120_000;
    while (!(await healthyService(this.#url, this.name))) {
      if (child.exitCode !== null) throw new Error(`${this.name} exited at start; read ${this.#logFile}`);
      if (Date.now() > deadline)
        throw new Error(`${this.name} did not become healthy in 120 s; read ${this.#logFile}`);
      await sleep(200);
    }
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.isUp()) return;
    this.#expectingExit = true;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await gone;
  }

  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }

  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  resume(): void {
    this.#child?.kill('SIGCONT');
  }
}

/**
 * A service run as several replicas behind the load balancer. Crash faults hit its first replica, as a crash hits
 * one pod; `scaleTo` adds replicas (each healthy before it counts) or stops the newest, gracefully.
 */
class ReplicaGroup implements ProcessTarget {
  readonly name: ServiceName;
  readonly #make: (index: number) => ServiceProcess;
  readonly replicas: ServiceProcess[] = [];
  /** Every replica ever started, for the final stop. */
  readonly everStarted: ServiceProcess[] = [];

  constructor(name: ServiceName, make: (index: number) => ServiceProcess) {
    this.name = name;
    this.#make = make;
  }

  async scaleTo(n: number): Promise<void> {
    if (n < 1 || n > MAX_REPLICAS) throw new Error(`${this.name}: between 1 and ${MAX_REPLICAS} replicas`);
    while (this.replicas.length < n) {
      const replica = this.#make(this.replicas.length);
      this.everStarted.push(replica);
      await replica.start();
      this.replicas.push(replica);
    }
    while (this.replicas.length > n) await this.replicas.pop()?.stop();
  }

  #first(): ServiceProcess {
    const first = this.replicas[0];
    if (first === undefined) throw new Error(`${this.name} has no replica`);
    return first;
  }

  isUp(): boolean {
    return this.replicas.some((r) => r.isUp());
  }

  kill(signal: NodeJS.Signals): Promise<void> {
    return this.#first().kill(signal);
  }

  stop(): Promise<void> {
    return this.#first().stop();
  }

  start(): Promise<void> {
    return this.#first().isUp() ? Promise.resolve() : this.#first().start();
  }

  pause(): void {
    this.#first().pause();
  }

  resume(): void {
    this.#first().resume();
  }
}

/** PostgreSQL, Redis or Kafka in local mode: found by pid file, started again by the infra scripts. */
class InfraProcess implements ProcessTarget {
  readonly name: InfraName;
  readonly #settings: InfraSettings;
  #expectingExit = false;

  constructor(name: InfraName, settings: InfraSettings) {
    this.name = name;
    this.#settings = settings;
  }

  #pid(): number | undefined {
    return runningPid(managed(this.#settings.stateDir, this.name));
  }

  isUp(): boolean {
    return this.#pid() !== undefined;
  }

  /** True when it is down and nobody here took it down. */
  diedOnItsOwn(): boolean {
    return !this.#expectingExit && !this.isUp();
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    const pid = this.#pid();
    if (pid === undefined) return;
    this.#expectingExit = true;
    // The whole process group, as when its machine or container dies: PostgreSQL's backends go with the postmaster.
    try {
      process.kill(-pid, signal);
    } catch {
      process.kill(pid, signal);
    }
    const deadline = Date.now() + 60_000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    // Backends and helpers finish dying too before anything is started again.
    await sleep(500);
  }

  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }

  async start(): Promise<void> {
    const quiet = () => {};
    if (this.name === 'postgres') await startPostgres(this.#settings, quiet);
    else if (this.name === 'redis') await startRedis(this.#settings, quiet);
    else await startKafka(this.#settings, quiet);
    this.#expectingExit = false;
  }

  pause(): void {
    const pid = this.#pid();
    if (pid !== undefined) process.kill(-pid, 'SIGSTOP');
  }

  resume(): void {
    const pid = this.#pid();
    if (pid !== undefined) process.kill(-pid, 'SIGCONT');
  }
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
 * Brings up what is missing: the infrastructure (npm run infra:up) and any of the three services not already
 * answering on its port. Services it starts get settings fit for a load run (cheap password hashing so thousands
 * of fans can sign up on two cores, no per-address login or queue-join limit since every fan comes from 127.0.0.1).
 */
export async function ensureStack(t: Targets, options: StackOptions): Promise<StartedStack> {
  const { log, logDir } = options;
  const infra = spawnSync(process.execPath, [join(ROOT, 'scripts/infra/cli.ts'), 'up', '--quiet'], {
    stdio: 'inherit',
  });
  if (infra.status !== 0) throw new Error('the infrastructure did not come up; see .infra/logs/');
  mkdirSync(logDir, { recursive: true });
  const settings = readInfraSettings(process.env, true);
  if (options.proxied && settings.kafka.nodes > 1)
    throw new Error(
      'network faults put one Kafka listener per service behind Toxiproxy: that needs the single broker',
    );
  const unexpectedExits: UnexpectedExit[] = [];
  const targets = new Map<TargetName, ProcessTarget>();

  const infraFaults = options.mustOwn.filter((n): n is InfraName => (INFRA as readonly string[]).includes(n));
  if ((infraFaults.length > 0 || options.proxied) && process.env.RESERVEX_INFRA_MODE === 'docker')
    throw new Error(
      'faults on Kafka, PostgreSQL or Redis, and network faults, need the local-mode infrastructure',
    );
  const infraTargets = INFRA.map((name) => new InfraProcess(name, settings));
  for (const target of infraTargets) targets.set(target.name, target);

  let toxiproxy: Toxiproxy | undefined;
  const plan = proxyPlan(settings);
  if (options.proxied) {
    toxiproxy = new Toxiproxy();
    await toxiproxy.start(join(logDir, 'toxiproxy.log'), log);
    await toxiproxy.createProxies(plan);
    log(`network faults go through Toxiproxy: ${plan.map((p) => p.name).join(', ')}`);
  }
  const via = (service: ServiceName, dependency: InfraName, url: string) => {
    const proxy = plan.find((p) => p.service === service && p.dependency === dependency)!;
    return options.proxied ? withPort(url, proxy.listenPort) : url;
  };
  const kafkaVia = (service: ServiceName) =>
    options.proxied
      ? `127.0.0.1:${plan.find((p) => p.service === service && p.dependency === 'kafka')!.listenPort}`
      : t.kafkaBrokers.join(',');

  const env = (port: string, extra: Record<string, string>) => ({
    ...process.env,
    PORT: port,
    LOG_LEVEL: 'warn',
    DATABASE_POOL_MAX: '30',
    CORS_ORIGINS: process.env.CORS_ORIGINS ?? webOrigins(t),
    ...extra,
  });
  const services: Array<{ name: ServiceName; url: string; env: NodeJS.ProcessEnv }> = [
    {
      name: 'account-service',
      url: t.account,
      env: env(new URL(t.account).port, {
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
        ADMIN_EMAIL: t.adminEmail,
        ADMIN_PASSWORD: t.adminPassword,
      }),
    },
    {
      name: 'ticket-service',
      url: t.ticket,
      // Every fan joins the queue from 127.0.0.1: the per-address join limit would count the whole crowd as one.
      env: env(new URL(t.ticket).port, {
        DATABASE_URL: via('ticket-service', 'postgres', t.ticketDb),
        REDIS_URL: via('ticket-service', 'redis', t.ticketRedis),
        KAFKA_BROKERS: kafkaVia('ticket-service'),
        ACCOUNT_JWKS_URL: `${t.account}/.well-known/jwks.json`,
        QUEUE_JOIN_LIMIT_PER_IP: '1000000000',
      }),
    },
    // Outside the system under test: its faults are the scenario's, set through its API, never the network's.
    {
      name: 'payment-provider',
      url: t.provider,
      env: env(new URL(t.provider).port, { DATABASE_URL: t.providerDb, PROVIDER_API_KEY: t.providerApiKey }),
    },
    {
      name: 'payment-service',
      url: t.payment,
      env: env(new URL(t.payment).port, {
        DATABASE_URL: via('payment-service', 'postgres', t.paymentDb),
        KAFKA_BROKERS: kafkaVia('payment-service'),
        ACCOUNT_JWKS_URL: `${t.account}/.well-known/jwks.json`,
        PROVIDER_URL: t.provider,
        PROVIDER_API_KEY: t.providerApiKey,
      }),
    },
  ];
  const started: ServiceProcess[] = [];
  const groups: ReplicaGroup[] = [];
  const reused: string[] = [];
  const replicated = services.filter((svc) => (options.replicas?.[svc.name] ?? 1) > 1);
  if (replicated.length > 0 && options.proxied)
    throw new Error('replicas and network faults do not go together yet: Toxiproxy has one pair per service');
  let balancer: LoadBalancer | undefined;
  // A start that fails half-way stops what it started: nothing is left holding ports for the next run.
  try {
    for (const svc of services) {
      const count = options.replicas?.[svc.name] ?? 1;
      if (await healthyService(svc.url, svc.name)) {
        if (options.mustOwn.includes(svc.name) || options.proxied || count > 1)
          throw new Error(
            `${svc.name} is already running on ${svc.url}: this scenario crashes it, configures it, runs it as replicas or puts it behind a proxy, so the runner must start it itself. Stop it first.`,
          );
        reused.push(svc.name);
        continue;
      }
      const replica = (index: number | undefined) => {
        const label = index === undefined ? svc.name : `${svc.name}-${index + 1}`;
        const url =
          index === undefined
            ? svc.url
            : withPort(svc.url, replicaPort(Number(new URL(svc.url).port), index));
        return new ServiceProcess(
          svc.name,
          url.replace(/\/$/, ''),
          {
            ...svc.env,
            ...(index === undefined ? {} : { SHUTDOWN_DRAIN_DELAY_MS: String(REPLICA_DRAIN_DELAY_MS) }),
            ...options.serviceEnv?.[svc.name],
            PORT: new URL(url).port,
          },
          join(logDir, `${label}.log`),
          (detail) => {
            unexpectedExits.push({ target: svc.name, at: Date.now(), detail: `${label} ${detail}` });
            log(`UNEXPECTED: ${label} ${detail}`);
          },
        );
      };
      if (count > 1) {
        if (balancer === undefined) {
          balancer = new LoadBalancer();
          await balancer.start(
            replicated.map((r) => ({ name: r.name, publicPort: Number(new URL(r.url).port) })),
            logDir,
            log,
          );
        }
        const group = new ReplicaGroup(svc.name, (i) => replica(i));
        await group.scaleTo(count);
        groups.push(group);
        targets.set(svc.name, group);
        log(`${svc.name}: ${count} replicas behind HAProxy on ${svc.url}`);
        continue;
      }
      const process = replica(undefined);
      started.push(process);
      await process.start();
      targets.set(svc.name, process);
    }
  } catch (error) {
    await Promise.all(
      [...started, ...groups.flatMap((g) => g.everStarted)].map((p) => p.stop().catch(() => {})),
    );
    await balancer?.stop().catch(() => {});
    await toxiproxy?.stop().catch(() => {});
    throw error;
  }

  // Infrastructure that dies without the runner's doing is reported, and started again.
  const watch = setInterval(() => {
    for (const target of infraTargets) {
      if (!target.diedOnItsOwn()) continue;
      unexpectedExits.push({ target: target.name, at: Date.now(), detail: 'stopped on its own' });
      log(`UNEXPECTED: ${target.name} stopped on its own; starting it again`);
      void target
        .kill('SIGKILL')
        .then(() => target.start())
        .catch(() => {});
    }
  }, 1000);
  const web = options.web === false ? undefined : await startWebPage(t, log);
  if (web !== undefined) log(`watch it live: ${web.url}#/control (the fan page: ${web.url})`);
  if (reused.length > 0) log(`reusing running ${reused.join(', ')} (their own settings apply)`);
  if (started.length > 0 || groups.length > 0)
    log(`started ${[...started, ...groups].map((s) => s.name).join(', ')}; logs in ${logDir}`);
  return {
    started: [...started.map((s) => s.name), ...groups.map((g) => g.name)],
    async replicaLoad() {
      const out: Record<string, Array<number | undefined>> = {};
      for (const g of groups) out[g.name] = await Promise.all(g.replicas.map((r) => r.requestsServed()));
      return out;
    },
    reused,
    targets,
    unexpectedExits,
    toxiproxy,
    webUrl: web?.url,
    async stop() {
      clearInterval(watch);
      await web?.server?.close();
      await Promise.all([...started, ...groups.flatMap((g) => g.everStarted)].map((s) => s.stop()));
      await balancer?.stop();
      await toxiproxy?.stop();
    },
  };
}
