import { setTimeout as sleep } from 'node:timers/promises';
import { startKafka } from './infra/local-kafka.ts';
import { startPostgres } from './infra/local-postgres.ts';
import { startRedis } from './infra/local-redis.ts';
import { isAlive, managed, runningPid } from './infra/processes.ts';
import type { InfraSettings } from './infra/settings.ts';
import type { ProcessTarget } from './process-target.ts';
import type { InfraName } from './target-names.ts';

/** PostgreSQL, Redis or Kafka in local mode: found by pid file, started again by the infra scripts. */
export class InfraProcess implements ProcessTarget {
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
