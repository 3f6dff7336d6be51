import type { TargetName } from './target-names.ts';

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
  /**
   * For replicated infrastructure, after a kill: which node was lost, which took over and how long the failover
   * took, as the report shows it.
   */
  lastFailover?(): Failover | undefined;
}

export interface Failover {
  lost: string;
  /** The node that took over, or undefined when none did within the wait. */
  promoted?: string;
  /** From the kill until the router reached a primary (a master) that takes writes. */
  seconds?: number;
  /** Epoch milliseconds of the kill. */
  at: number;
}

export interface UnexpectedExit {
  target: TargetName;
  at: number;
  detail: string;
}
