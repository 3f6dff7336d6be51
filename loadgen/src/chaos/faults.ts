import { INFRA, SERVICES, type TargetName } from '@reservex/stack';
import { z } from 'zod';

const at = z.number().min(-3600).max(3600);
const target = z.enum([...SERVICES, ...INFRA]);
const seconds = z.number().min(0).max(3600);

/**
 * One format for every fault a scenario injects. `atSeconds` counts from the opening of sales. The runner brings
 * back what it took down after `downSeconds`, as an orchestrator would; without it, a later `start` does.
 */
export const faultSchema = z.discriminatedUnion('action', [
  z.strictObject({
    atSeconds: at,
    action: z.literal('kill'),
    target,
    signal: z.enum(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGQUIT']).default('SIGKILL'),
    downSeconds: seconds.optional(),
  }),
  z.strictObject({ atSeconds: at, action: z.literal('stop'), target, downSeconds: seconds.optional() }),
  z.strictObject({ atSeconds: at, action: z.literal('start'), target }),
  z.strictObject({ atSeconds: at, action: z.literal('restart'), target }),
  z.strictObject({ atSeconds: at, action: z.literal('pause'), target, forSeconds: seconds }),
  z.strictObject({
    atSeconds: at,
    action: z.literal('network'),
    between: z.tuple([z.enum(SERVICES), z.enum(INFRA)]),
    toxic: z.enum(['latency', 'timeout', 'reset', 'bandwidth', 'partition']),
    forSeconds: seconds,
    latencyMs: z.number().int().min(0).max(60_000).optional(),
    jitterMs: z.number().int().min(0).max(60_000).optional(),
    rateKbps: z.number().int().min(1).optional(),
  }),
  /** Replica churn: a service run as replicas grows or shrinks to this many (new ones join when healthy). */
  z.strictObject({
    atSeconds: at,
    action: z.literal('scale'),
    target: z.enum(['account-service', 'ticket-service', 'payment-service']),
    replicas: z.number().int().min(1).max(8),
  }),
  /** The payment provider answers every call with a fast 503 (its own outage, not a network fault). */
  z.strictObject({ atSeconds: at, action: z.literal('provider-outage'), forSeconds: seconds }),
]);

export type Fault = z.infer<typeof faultSchema>;

/** A fault as the report shows it. */
export function describeFault(f: Fault): string {
  switch (f.action) {
    case 'kill':
      return `kill ${f.target} (${f.signal})${f.downSeconds === undefined ? '' : `, back after ${f.downSeconds} s`}`;
    case 'stop':
      return `stop ${f.target}${f.downSeconds === undefined ? '' : `, back after ${f.downSeconds} s`}`;
    case 'start':
    case 'restart':
      return `${f.action} ${f.target}`;
    case 'pause':
      return `pause ${f.target} for ${f.forSeconds} s`;
    case 'network':
      return `${f.toxic} between ${f.between[0]} and ${f.between[1]} for ${f.forSeconds} s`;
    case 'provider-outage':
      return `payment provider outage (fast 503s) for ${f.forSeconds} s`;
    case 'scale':
      return `scale ${f.target} to ${f.replicas} replica(s)`;
  }
}

/** The processes a scenario's faults take down: the runner must own each one. */
export function faultTargets(faults: readonly Fault[]): TargetName[] {
  return [
    ...new Set(
      faults.flatMap((f) => (f.action === 'network' || f.action === 'provider-outage' ? [] : [f.target])),
    ),
  ];
}
