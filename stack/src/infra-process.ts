import { setTimeout as sleep } from 'node:timers/promises';
import { startKafka } from './infra/local-kafka.ts';
import { loseNode, patroniProcess, startPatroniNode } from './infra/local-pg-cluster.ts';
import { startPostgres } from './infra/local-postgres.ts';
import { startRedis } from './infra/local-redis.ts';
import { loseRedisMaster, redisNodeProcess, startRedisNode } from './infra/local-redis-sentinel.ts';
import { pgPrimary } from './infra/patroni-rest.ts';
import { isAlive, managed, runningPid } from './infra/processes.ts';
import type { InfraSettings } from './infra/settings.ts';
import { routerPrimary } from './node-loss.ts';
import type { Failover, ProcessTarget } from './process-target.ts';
import type { InfraName } from './target-names.ts';

/**
 * PostgreSQL, Redis or Kafka in local mode: found by pid file, started again by the infra scripts. When PostgreSQL
 * or Redis runs replicated (PG_CLUSTER=3, REDIS_SENTINEL=3), a kill is the loss of the primary's node, data and
 * all; starting it again brings an empty replacement node that the cluster fills from the new primary.
 */
export class InfraProcess implements ProcessTarget {
  readonly name: InfraName;
  readonly #settings: InfraSettings;
  #expectingExit = false;
  #failover: Failover | undefined;

  constructor(name: InfraName, settings: InfraSettings) {
    this.name = name;
    this.#settings = settings;
  }

  #pid(): number | undefined {
    return runningPid(managed(this.#settings.stateDir, this.name));
  }

  /** The replicated nodes' pids (a lost node's is undefined), or undefined when this target is one process. */
  #nodePids(): Array<number | undefined> | undefined {
    const s = this.#settings;
    if (this.name === 'postgres' && s.postgres.cluster !== undefined)
      return s.postgres.cluster.nodes.map((n) => runningPid(patroniProcess(s, n)));
    if (this.name === 'redis' && s.redis.sentinel !== undefined)
      return s.redis.sentinel.nodePorts.map((_, i) => runningPid(redisNodeProcess(s, i)));
    return undefined;
  }

  isUp(): boolean {
    const nodes = this.#nodePids();
    return nodes === undefined ? this.#pid() !== undefined : nodes.every((pid) => pid !== undefined);
  }

  lastFailover(): Failover | undefined {
    return this.#failover;
  }

  async #loseNode(): Promise<void> {
    const s = this.#settings;
    const at = Date.now();
    let lost: string;
    if (this.name === 'postgres') {
      const primary = await pgPrimary(s);
      if (primary === undefined)
        throw new Error('no PostgreSQL node is the primary: there is nothing to lose');
      await loseNode(s, primary);
      lost = primary.name;
    } else {
      const i = await loseRedisMaster(s);
      lost = `redis-node${i + 1}`;
    }
    const promoted = await routerPrimary(s, this.name === 'postgres' ? 'postgres' : 'redis', lost, 60_000);
    this.#failover = {
      lost,
      at,
      ...(promoted === undefined ? {} : { promoted, seconds: Math.round((Date.now() - at) / 100) / 10 }),
    };
  }

  /** True when it is down and nobody here took it down. */
  diedOnItsOwn(): boolean {
    return !this.#expectingExit && !this.isUp();
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.#nodePids() !== undefined) {
      this.#expectingExit = true;
      return this.#loseNode();
    }
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

  /**
   * After a death nobody here caused: what is left of it goes, and it starts again. A replicated one only starts
   * its missing nodes: a kill there would be the loss of the primary's node.
   */
  async recover(): Promise<void> {
    if (this.#nodePids() === undefined) await this.kill('SIGKILL');
    await this.start();
  }

  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }

  async start(): Promise<void> {
    const quiet = () => {};
    const s = this.#settings;
    if (this.name === 'postgres' && s.postgres.cluster !== undefined)
      for (const node of s.postgres.cluster.nodes) await startPatroniNode(s, node);
    else if (this.name === 'redis' && s.redis.sentinel !== undefined)
      for (let i = 0; i < s.redis.sentinel.nodePorts.length; i++) await startRedisNode(s, i);
    else if (this.name === 'postgres') await startPostgres(this.#settings, quiet);
    else if (this.name === 'redis') await startRedis(this.#settings, quiet);
    else await startKafka(this.#settings, quiet);
    this.#expectingExit = false;
  }

  pause(): void {
    if (this.#nodePids() !== undefined) throw new Error(`pausing a replicated ${this.name} is not supported`);
    const pid = this.#pid();
    if (pid !== undefined) process.kill(-pid, 'SIGSTOP');
  }

  resume(): void {
    const pid = this.#pid();
    if (pid !== undefined) process.kill(-pid, 'SIGCONT');
  }
}
