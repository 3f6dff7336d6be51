import { harnessPool } from '@reservex/stack';
import type { PaymentFigures } from './payment-figures.ts';
import type { Recorder } from './recorder.ts';

/** What a run did, as numbers a scenario's `expect` block can name (README, "Scenarios prove their path"). */
export const FACT_NAMES = [
  'reservations',
  'confirmed',
  'soldSeats',
  'expiredHolds',
  'compensatedFailures',
  'cancelledByFans',
  'lateCaptures',
  'paymentsInDoubt',
  'providerRefunds',
  'conflicts409',
  'sawSoldOut',
  'fansGaveUp',
  'shed503',
  'misbehavioursTried',
  'misbehavioursRefused',
  'redelivered',
] as const;
export type FactName = (typeof FACT_NAMES)[number];
export type RunFacts = Partial<Record<FactName, number>>;

/** The facts, from the databases where they live and from the fans' side for what only they saw. */
export async function runFacts(o: {
  ticketDb: string;
  eventId: string;
  recorder: Recorder;
  payments: PaymentFigures | undefined;
  redelivered: number;
}): Promise<RunFacts> {
  const r = o.recorder;
  const facts: RunFacts = {
    conflicts409: r.conflicts,
    sawSoldOut: r.soldOutSeen,
    fansGaveUp: r.fansGaveUp,
    shed503: r.shed503,
    misbehavioursTried: [...r.misbehaviours.values()].reduce((n, m) => n + m.tried, 0),
    misbehavioursRefused: [...r.misbehaviours.values()].reduce((n, m) => n + m.refused, 0),
    redelivered: o.redelivered,
  };
  if (o.payments !== undefined) {
    facts.paymentsInDoubt = o.payments.inDoubt;
    facts.lateCaptures = o.payments.lateCaptures;
    facts.providerRefunds = o.payments.providerRefunds;
  }
  const ticket = harnessPool(o.ticketDb, 1);
  try {
    const { rows } = await ticket.query(
      `SELECT count(*)::int AS reservations,
              count(*) FILTER (WHERE status = 'CONFIRMED')::int AS confirmed,
              count(*) FILTER (WHERE status = 'EXPIRED')::int AS expired,
              count(*) FILTER (WHERE status = 'CANCELLED' AND reason = 'payment-failed')::int AS compensated,
              count(*) FILTER (WHERE status = 'CANCELLED' AND reason = 'user-cancelled')::int AS by_fans,
              (SELECT count(*)::int FROM seats WHERE event_id = $1 AND status = 'SOLD') AS sold
       FROM reservations WHERE event_id = $1`,
      [o.eventId],
    );
    const f = rows[0];
    Object.assign(facts, {
      reservations: f.reservations,
      confirmed: f.confirmed,
      soldSeats: f.sold,
      expiredHolds: f.expired,
      compensatedFailures: f.compensated,
      cancelledByFans: f.by_fans,
    });
  } catch {
    // The database could not be read: the facts it holds stay unknown, and an expectation on them fails.
  } finally {
    await ticket.end();
  }
  return facts;
}

export interface Expectation {
  fact: FactName;
  expected: string;
  actual: number | null;
  pass: boolean;
}

/**
 * `">= 20"`, or a share of another fact, `">= 0.2 * reservations"`: a share holds at every scale, where a count
 * measured at one scale would cry wolf at another (hold-expiry-race at 0.1 did).
 */
export const EXPECTATION = /^(>=|<=|==|>|<)\s*(\d+(?:\.\d+)?)(?:\s*\*\s*([a-zA-Z0-9]+))?$/;

/** Each `"fact": ">= 20"` of the scenario against what the run did; an unknown fact fails. */
export function checkExpectations(expect: Partial<Record<FactName, string>>, facts: RunFacts): Expectation[] {
  return Object.entries(expect).map(([fact, expected]) => {
    const actual = facts[fact as FactName];
    const [, op, bound, of] = EXPECTATION.exec(expected ?? '') ?? [];
    const base = of === undefined ? 1 : facts[of as FactName];
    const n = Number(bound) * (base ?? Number.NaN);
    const pass =
      actual !== undefined &&
      !Number.isNaN(n) &&
      ((op === '>=' && actual >= n) ||
        (op === '<=' && actual <= n) ||
        (op === '==' && actual === n) ||
        (op === '>' && actual > n) ||
        (op === '<' && actual < n));
    return { fact: fact as FactName, expected: expected!, actual: actual ?? null, pass };
  });
}
