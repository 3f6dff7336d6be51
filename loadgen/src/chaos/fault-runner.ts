import { setTimeout as sleep } from 'node:timers/promises';
import type { Failover, StartedStack, TargetName } from '@reservex/stack';
import { describeFault, type Fault } from './faults.ts';

/** The payment provider's own switches, through its API. */
export interface ProviderControl {
  outage(seconds: number): Promise<void>;
  /** What a lookup gets from the provider now: its HTTP status, as evidence that an outage took effect. */
  probe(): Promise<number>;
}

export interface FaultRecord {
  fault: Fault;
  label: string;
  /** Milliseconds since the epoch. */
  startedAt: number;
  /** When what the fault took away was back (healthy again, proxy restored); undefined while it lasts. */
  endedAt?: number;
  error?: string;
  /** What a probe saw while the fault lasted: evidence that it took effect. */
  observed?: string;
  /** For replicated infrastructure: the node lost, the one that took over, and how long that took. */
  failover?: Failover;
}

/**
 * Injects the scenario's faults at their times and undoes them, as an orchestrator would: a killed process is
 * started again after `downSeconds`, a paused one resumed, a network fault lifted. Every step is logged and kept.
 */
export class FaultRunner {
  readonly records: FaultRecord[] = [];
  readonly #faults: readonly Fault[];
  readonly #stack: StartedStack;
  readonly #log: (m: string) => void;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #running = new Set<Promise<void>>();
  /** Targets down with no return scheduled yet: a later `start` ends their record. */
  readonly #downUntilStarted = new Map<TargetName, FaultRecord>();

  readonly #serviceUrls: Record<string, string>;
  readonly #provider: ProviderControl;

  constructor(
    faults: readonly Fault[],
    stack: StartedStack,
    serviceUrls: Record<string, string>,
    provider: ProviderControl,
    log: (m: string) => void,
  ) {
    this.#faults = faults;
    this.#stack = stack;
    this.#serviceUrls = serviceUrls;
    this.#provider = provider;
    this.#log = log;
  }

  /** Halfway through a network fault, asks the service how its dependency looks, and how long it took to say. */
  async #probe(record: FaultRecord, service: string, dependency: string): Promise<void> {
    const started = performance.now();
    try {
      const res = await fetch(`${this.#serviceUrls[service]}/actuator/health`, {
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json()) as { components?: Record<string, { status: string; error?: string }> };
      const c = body.components?.[dependency];
      record.observed = `${service} readiness ${res.status}, ${dependency} ${c?.status ?? '?'}${c?.error ? ` (${c.error})` : ''}, answered in ${Math.round(performance.now() - started)} ms`;
    } catch (error) {
      record.observed = `${service} health did not answer: ${(error as Error).message}`;
    }
    this.#log(`chaos: during "${record.label}": ${record.observed}`);
  }

  schedule(salesOpenAt: number): void {
    for (const fault of this.#faults) {
      const timer = setTimeout(
        () => {
          const run = this.#inject(fault).finally(() => this.#running.delete(run));
          this.#running.add(run);
        },
        Math.max(0, salesOpenAt + fault.atSeconds * 1000 - Date.now()),
      );
      this.#timers.push(timer);
    }
  }

  /** Waits for every fault in progress to be undone (restarts included); faults not yet due are cancelled. */
  async settle(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    await Promise.allSettled([...this.#running]);
    // Anything still down because its `start` never came: bring it back, so the check sees a whole system.
    for (const [name, record] of this.#downUntilStarted) {
      await this.#target(name).start();
      record.endedAt = Date.now();
      this.#log(`chaos: ${name} started again at the end of the run`);
    }
    this.#downUntilStarted.clear();
  }

  #target(name: TargetName) {
    const target = this.#stack.targets.get(name);
    if (target === undefined) throw new Error(`${name} is not run by this scenario's runner`);
    return target;
  }

  async #inject(fault: Fault): Promise<void> {
    const record: FaultRecord = { fault, label: describeFault(fault), startedAt: Date.now() };
    this.records.push(record);
    this.#log(`chaos: ${record.label}`);
    try {
      switch (fault.action) {
        case 'kill':
        case 'stop': {
          const target = this.#target(fault.target);
          await (fault.action === 'kill' ? target.kill(fault.signal) : target.stop());
          const failover = target.lastFailover?.();
          if (failover !== undefined) {
            record.failover = failover;
            record.observed = describeFailover(failover);
            this.#log(`chaos: ${record.observed}`);
          }
          if (fault.downSeconds === undefined) {
            this.#downUntilStarted.set(fault.target, record);
            return;
          }
          await sleep(fault.downSeconds * 1000);
          await target.start();
          break;
        }
        case 'start': {
          await this.#target(fault.target).start();
          const down = this.#downUntilStarted.get(fault.target);
          if (down !== undefined) down.endedAt = Date.now();
          this.#downUntilStarted.delete(fault.target);
          break;
        }
        case 'restart': {
          const target = this.#target(fault.target);
          await target.stop();
          await target.start();
          break;
        }
        case 'pause': {
          const target = this.#target(fault.target);
          target.pause();
          await sleep(fault.forSeconds * 1000);
          target.resume();
          break;
        }
        case 'network': {
          const proxy = this.#stack.toxiproxy;
          if (proxy === undefined) throw new Error('network faults need the services behind Toxiproxy');
          const name = `${fault.between[0]}-${fault.between[1]}`;
          await proxy.begin(name, fault.toxic, {
            ...(fault.latencyMs === undefined ? {} : { latencyMs: fault.latencyMs }),
            ...(fault.jitterMs === undefined ? {} : { jitterMs: fault.jitterMs }),
            ...(fault.rateKbps === undefined ? {} : { rateKbps: fault.rateKbps }),
          });
          await sleep((fault.forSeconds * 1000) / 2);
          await this.#probe(record, fault.between[0], fault.between[1]);
          await sleep(Math.max(0, record.startedAt + fault.forSeconds * 1000 - Date.now()));
          await proxy.end(name, fault.toxic);
          break;
        }
        case 'scale': {
          const target = this.#target(fault.target);
          if (target.scaleTo === undefined)
            throw new Error(`${fault.target} is not run as replicas: give the scenario "replicas"`);
          await target.scaleTo(fault.replicas);
          break;
        }
        case 'provider-outage': {
          await this.#provider.outage(fault.forSeconds);
          await sleep((fault.forSeconds * 1000) / 2);
          record.observed = `the provider answered a lookup with ${await this.#provider.probe()}`;
          this.#log(`chaos: during "${record.label}": ${record.observed}`);
          await sleep(Math.max(0, record.startedAt + fault.forSeconds * 1000 - Date.now()));
          break;
        }
      }
      record.endedAt = Date.now();
      this.#log(
        `chaos: over after ${((record.endedAt - record.startedAt) / 1000).toFixed(1)} s: ${record.label}`,
      );
    } catch (error) {
      record.error = (error as Error).message;
      record.endedAt = Date.now();
      this.#log(`chaos: FAILED to inject or undo "${record.label}": ${record.error}`);
    }
  }
}

export function describeFailover(f: Failover): string {
  return f.promoted === undefined
    ? `lost node ${f.lost}; no other node took writes within a minute`
    : `lost node ${f.lost}; ${f.promoted} took writes ${f.seconds} s after the kill`;
}
