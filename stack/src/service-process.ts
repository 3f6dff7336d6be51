import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { endWithThisProcess } from './child-reaper.ts';
import { MAX_REPLICAS } from './load-balancer.ts';
import type { ProcessTarget } from './process-target.ts';
import type { ServiceName } from './target-names.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** True once the service answers its health check as itself, UP. */
export async function healthyService(url: string, name: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/actuator/health`, { signal: AbortSignal.timeout(1500) });
    const body = (await res.json()) as { service?: string; status?: string };
    return res.ok && body.service === name && body.status === 'UP';
  } catch {
    return false;
  }
}

export /** A service the runner started, restartable with the same environment. */
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

  /** Where this process answers its own metrics (CPU, requests by route), whatever balancer stands in front. */
  get metricsUrl(): string {
    return `${this.#url}/metrics`;
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

export /**
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
