import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { faultProfileSchema } from '@reservex/contracts';
import { SERVICES } from '@reservex/stack';
import { z } from 'zod';
import { faultSchema } from './chaos/faults.ts';
import { MISBEHAVIOURS } from './fans/misbehaviour-kinds.ts';
import { EXPECTATION, FACT_NAMES } from './run/run-facts.ts';

/** One declarative file per scenario, under scenarios/. Every field is checked before anything starts. */
export const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(''),
  event: z.strictObject({
    holdSeconds: z.number().int().min(1).max(3600),
    maxSeatsPerUser: z.number().int().min(1).max(20),
    sections: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          rows: z.number().int().min(1),
          seatsPerRow: z.number().int().min(1),
          price: z.number().int().min(0),
        }),
      )
      .min(1),
  }),
  /** Sell through the waiting room: it opens `opensBeforeSalesSeconds` before sales (the pre-queue). */
  queue: z
    .strictObject({
      opensBeforeSalesSeconds: z.number().min(0),
      admitPerSecond: z.number().int().min(1),
      maxActive: z.number().int().min(1),
      /**
       * "off" admits at admitPerSecond whatever the saga can take: the admission controller switched off, as an
       * operator may (docs/overload.md). The overload family's seeded failure.
       */
      admissionControl: z.enum(['auto', 'off']).default('auto'),
    })
    .optional(),
  users: z.number().int().min(1),
  /** Real browser fans (headless Chromium through the web page) alongside the users; --browser-fans overrides. */
  browserFans: z.number().int().min(0).max(20).default(0),
  /** How users show up: spread evenly over the window, which starts `beforeOpenSeconds` before sales open. */
  arrival: z.strictObject({
    beforeOpenSeconds: z.number().min(0).default(0),
    overSeconds: z.number().min(0),
    /** "burst": most arrive at the opening; "uniform": evenly spread. */
    shape: z.enum(['burst', 'uniform']).default('burst'),
    /** "burst": the share of the crowd that arrives before the opening, evenly over `beforeOpenSeconds`. */
    beforeOpenShare: z.number().min(0).max(1).default(0.5),
    /**
     * "burst": the rest arrive after the opening, fewer and fewer (an exponential decay with this mean), within
     * `overSeconds`. Unset, a sixth of `overSeconds`.
     */
    afterOpenMeanSeconds: z.number().positive().optional(),
  }),
  /**
   * When fans sign in: on arrival (the sign-in burst is part of the on-sale), or before the sale, as fans who
   * wait on the event page have; a stadium's crowd then signs in at the account service's own pace first.
   * "minted": before the sale too, but with no login at all: the admin mints every fan's access token through
   * account-service's bulk path (POST /api/admin/sessions, off in production), for crowds of a million whose
   * logins alone would take minutes of the service's CPU. The tokens are real; ticket-service verifies each.
   */
  signIn: z.enum(['on-arrival', 'before-sale', 'minted']).default('on-arrival'),
  /** Seats each user wants, and which seats: the best (most expensive) sections first, or a fixed hot set. */
  seats: z.strictObject({
    perUser: z.strictObject({ min: z.number().int().min(1), max: z.number().int().min(1) }),
    preference: z.enum(['best-first', 'random', 'hot-set']).default('best-first'),
    hotSetSize: z.number().int().min(1).optional(),
    retriesOn409: z.number().int().min(0).default(3),
  }),
  abandonment: z
    .strictObject({
      /** Leave before getting to buy (while waiting). */
      beforeAdmission: z.number().min(0).max(1).default(0),
      /** How long, at most, a fan who leaves while waiting waits first (each a random share of it). */
      patienceSeconds: z.number().min(0).default(20),
      /** Get in, look, and leave without reserving. */
      afterAdmission: z.number().min(0).max(1).default(0),
      /** Pay, then change one's mind and cancel the booking: the payment is refunded through the saga. */
      cancelAfterPaying: z.number().min(0).max(1).default(0),
    })
    .default({ beforeAdmission: 0, patienceSeconds: 20, afterAdmission: 0, cancelAfterPaying: 0 }),
  /**
   * The payment provider's behaviour (its fault vocabulary is in the README), at the start and as it changes,
   * at seconds from the opening. A full outage is a fault (`provider-outage`), with the others.
   */
  payment: z.strictObject({
    initial: faultProfileSchema,
    changes: z
      .array(z.strictObject({ atSecond: z.number().min(0), profile: faultProfileSchema }))
      .default([]),
  }),
  /** A share of the fans misbehave, each trying every one of `kinds` (README, "Misbehaving fans"). */
  adversaries: z
    .strictObject({
      share: z.number().min(0).max(1),
      kinds: z
        .array(z.enum(MISBEHAVIOURS))
        .min(1)
        .default([...MISBEHAVIOURS]),
    })
    .optional(),
  /**
   * The harness re-publishes a share of the saga's messages through Kafka as exact duplicates (same message id),
   * each after a random delay, so that they arrive late and out of order. Effects must stay exactly-once.
   */
  redelivery: z
    .strictObject({
      share: z.number().min(0).max(1),
      delayMs: z
        .strictObject({ min: z.number().int().min(0), max: z.number().int().min(0) })
        .default({ min: 0, max: 5000 }),
    })
    .refine((r) => r.delayMs.min <= r.delayMs.max, { message: 'delayMs.min must not exceed delayMs.max' })
    .optional(),
  /**
   * What must happen in this scenario for it to have exercised its path, as `"fact": "<op> <n>"` (ops >=, <=, ==,
   * >, <), for example `"expiredHolds": ">= 20"`. The facts are listed in the README.
   */
  expect: z
    .partialRecord(
      z.enum(FACT_NAMES),
      z
        .string()
        .regex(EXPECTATION, 'like ">= 20" or ">= 0.2 * reservations"')
        .refine((v) => {
          const of = EXPECTATION.exec(v)?.[3];
          return of === undefined || (FACT_NAMES as readonly string[]).includes(of);
        }, 'a share of a fact the run does not have'),
    )
    .default({}),
  /**
   * Settings for services the runner starts, by service (environment variables, as in the README): for a rule
   * the scenario is about, such as ticket-service's HOLD_SETTLE_WINDOW_SECONDS. The runner must own them.
   */
  serviceEnv: z
    .partialRecord(z.enum(SERVICES), z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), z.string()))
    .default({}),
  /** What the infrastructure must be for this scenario to mean anything: checked before the run starts. */
  requires: z
    .strictObject({
      kafkaNodes: z.union([z.literal(1), z.literal(3)]).optional(),
      /** PG_CLUSTER: 3 for PostgreSQL under Patroni, one standby synchronous. */
      pgCluster: z.union([z.literal(1), z.literal(3)]).optional(),
      /** REDIS_SENTINEL: 3 for a Redis master and replica under three sentinels. */
      redisSentinel: z.union([z.literal(1), z.literal(3)]).optional(),
    })
    .default({}),
  /** Services run as several replicas behind HAProxy (docs/deploy.md); `--replicas` on the command line wins. */
  replicas: z
    .partialRecord(
      z.enum(['account-service', 'ticket-service', 'payment-service']),
      z.number().int().min(1).max(8),
    )
    .default({}),
  /** Crashes, outages and network faults during the sale, at seconds from the opening (docs/resilience.md). */
  faults: z.array(faultSchema).default([]),
  durationSeconds: z.number().min(1),
  quiescenceTimeoutSeconds: z.number().min(1).default(60),
  thresholds: z
    .strictObject({
      /** Seats sold by the end, as a share of capacity (when demand exceeds supply). */
      minSoldRatio: z.number().min(0).max(1).optional(),
      maxReserveToConfirmP99Ms: z.number().min(0).optional(),
      /** 5xx answers and requests with no answer, apart from 503s sent on purpose with Retry-After. */
      maxHttp5xx: z.number().int().min(0).optional(),
      /** 503s with Retry-After: shedding, or a dependency away. */
      maxShed503: z.number().int().min(0).optional(),
      /** Fans whose journey ended because the API kept failing past their patience. */
      maxFansGaveUp: z.number().int().min(0).optional(),
      /** Seconds from the end of each fault until the saga had drained. */
      maxRecoverySeconds: z.number().min(0).optional(),
      /**
       * Confirmed bookings as a share of the fans who would have paid: confirmed, expired, refused for a deadline
       * the system let pass, and fans still queued at the end while seats remained (docs/overload.md). Defaults to
       * 0.95 in a scenario without faults, timeouts or changed service rules.
       */
      minFansServed: z.number().min(0).max(1).optional(),
      /** Captures refunded because their booking ended meanwhile, as a share of confirmed: same default rule, 0.01. */
      maxWastedCaptureRatio: z.number().min(0).optional(),
      /**
       * Requests a fan far from the front sends ticket-service per minute of waiting (issue 30: at most 0.05; far
       * fans read the edge). A run that measured no far fan fails it.
       */
      maxFarOriginPerFanMinute: z.number().min(0).optional(),
      /** ticket-service's cores while the crowd waits (the median of the steady windows): half a core at most. */
      maxTicketCoresWhileWaiting: z.number().min(0).optional(),
    })
    .default({}),
});

export type Scenario = z.infer<typeof scenarioSchema>;

export class ScenarioError extends Error {}

const SCENARIO_DIR = resolve(import.meta.dirname, '..', '..', 'scenarios');

export function listScenarios(): string[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .sort();
}

/** Loads a scenario by name (scenarios/<name>.json) or by path. */
export function loadScenario(nameOrPath: string): Scenario {
  const path = existsSync(nameOrPath)
    ? nameOrPath
    : join(SCENARIO_DIR, `${basename(nameOrPath, '.json')}.json`);
  if (!existsSync(path)) {
    throw new ScenarioError(
      `no scenario "${nameOrPath}": not a file, and not one of ${listScenarios().join(', ')}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ScenarioError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = scenarioSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('\n');
    throw new ScenarioError(`${path} is not a valid scenario:\n${problems}`);
  }
  const s = parsed.data;
  if (s.seats.perUser.min > s.seats.perUser.max)
    throw new ScenarioError(`${path}: seats.perUser.min exceeds max`);
  if (s.seats.perUser.max > s.event.maxSeatsPerUser)
    throw new ScenarioError(`${path}: seats.perUser.max exceeds event.maxSeatsPerUser`);
  return s;
}

/** An expectation's bound at another scale: counts grow and shrink with the crowd; an exact 0 stays 0. */
function scaleExpectation(expected: string, factor: number): string {
  const [, op, bound, of] = EXPECTATION.exec(expected) ?? [];
  const n = Number(bound);
  // A share of another fact scales with it.
  if (op === undefined || op === '==' || n === 0 || of !== undefined) return expected;
  const scaled = op.startsWith('>') ? Math.max(1, Math.ceil(n * factor)) : Math.floor(n * factor);
  return `${op} ${scaled}`;
}

/**
 * --scale N: N times the users and N times the seats (more rows per section), same shape. The waiting room's
 * rate is the operator's and stays, so a larger sale runs up to N times longer.
 */
export function scaleScenario(s: Scenario, factor: number): Scenario {
  if (factor === 1) return s;
  return {
    ...s,
    durationSeconds:
      factor > 1 && s.queue !== undefined ? Math.ceil(s.durationSeconds * factor) : s.durationSeconds,
    expect: Object.fromEntries(Object.entries(s.expect).map(([k, v]) => [k, scaleExpectation(v!, factor)])),
    users: Math.max(1, Math.round(s.users * factor)),
    event: {
      ...s.event,
      sections: s.event.sections.map((sec) => ({ ...sec, rows: Math.max(1, Math.round(sec.rows * factor)) })),
    },
  };
}

export function capacity(s: Scenario): number {
  return s.event.sections.reduce((n, sec) => n + sec.rows * sec.seatsPerRow, 0);
}
