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
import type { Targets } from './targets.ts';

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
}

export interface UnexpectedExit {
  target: TargetName;
  at: number;
  detail: string;
}

export interface StartedStack {
  started: string[];
  reused: string[];
  targets: Map<TargetName, ProcessTarget>;
  /** Exits the runner did not cause; each is restarted, as an orchestrator would, and fails the run. */
  unexpectedExits: UnexpectedExit[];
  /** Present when the services reach their dependencies through Toxiproxy. */
  toxiproxy: Toxiproxy | undefined;
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

  async start(): Promise<void> {
    const out = openSync(this.#logFile, 'a');
    const child = spawn(process.execPath, [join(ROOT, 'system', this.name, 'src', 'main.ts')], {
      env: this.#env,
      stdio: ['ignore', out, out],
    });
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
  const reused: string[] = [];
  for (const svc of services) {
    if (await healthyService(svc.url, svc.name)) {
      if (options.mustOwn.includes(svc.name) || options.proxied)
        throw new Error(
          `${svc.name} is already running on ${svc.url}: this scenario crashes it, configures it or puts it behind a proxy, so the runner must start it itself. Stop it first.`,
        );
      reused.push(svc.name);
      continue;
    }
    const process = new ServiceProcess(
      svc.name,
      svc.url,
      { ...svc.env, ...options.serviceEnv?.[svc.name] },
      join(logDir, `${svc.name}.log`),
      (detail) => {
        unexpectedExits.push({ target: svc.name, at: Date.now(), detail });
        log(`UNEXPECTED: ${svc.name} ${detail}`);
      },
    );
    await process.start();
    started.push(process);
    targets.set(svc.name, process);
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
  if (reused.length > 0) log(`reusing running ${reused.join(', ')} (their own settings apply)`);
  if (started.length > 0) log(`started ${started.map((s) => s.name).join(', ')}; logs in ${logDir}`);
  return {
    started: started.map((s) => s.name),
    reused,
    targets,
    unexpectedExits,
    toxiproxy,
    async stop() {
      clearInterval(watch);
      await Promise.all(started.map((s) => s.stop()));
      await toxiproxy?.stop();
    },
  };
}
