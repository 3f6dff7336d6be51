import { LotteryOrder } from '@reservex/ticket-service/queue-lottery';
import { type CheckContext, type InvariantCheck, verdict } from './types.ts';

async function queueOf(ctx: CheckContext) {
  const { rows } = await ctx.ticket.query('SELECT queue_opens_at, sales_open_at FROM events WHERE id = $1', [
    ctx.eventId,
  ]);
  const row = rows[0];
  if (row === undefined || row.queue_opens_at === null || ctx.redis === undefined) return undefined;
  const key = (name: string) => `${ctx.redisPrefix}wr:{${ctx.eventId}}:${name}`;
  return { redis: ctx.redis, key, salesOpenAt: new Date(row.sales_open_at).getTime() };
}

const noQueue = { verdict: 'SKIP' as const, detail: 'the event sells without a waiting room', examples: [] };

/** The admission log in Redis: token id → who, on which ticket, when. Written by the admission step only. */
async function admissionLog(redis: NonNullable<CheckContext['redis']>, key: string) {
  const raw = await redis.hgetall(key);
  return Object.entries(raw).map(([tokenId, v]) => {
    const [user, ticket, at] = v.split('|');
    return { tokenId, user: user!, ticket: Number(ticket), at: Number(at) };
  });
}

export const noReservationWithoutAdmission: InvariantCheck = {
  name: 'admission-required',
  title: 'No reservation without an admission',
  async run(ctx) {
    const q = await queueOf(ctx);
    if (q === undefined) return noQueue;
    const log = new Map((await admissionLog(q.redis, q.key('issued'))).map((a) => [a.tokenId, a]));
    const { rows } = await ctx.ticket.query(
      'SELECT id, user_id, admission_id FROM reservations WHERE event_id = $1',
      [ctx.eventId],
    );
    const violations: unknown[] = [];
    const used = new Map<string, string>();
    for (const r of rows) {
      const admission = r.admission_id === null ? undefined : log.get(r.admission_id);
      if (admission === undefined)
        violations.push({ reservationId: r.id, problem: 'no admission was ever issued for it' });
      else if (admission.user !== r.user_id)
        violations.push({ reservationId: r.id, problem: `admission belongs to ${admission.user}` });
      else if (used.has(r.admission_id))
        violations.push({
          reservationId: r.id,
          problem: `admission also used by ${used.get(r.admission_id)}`,
        });
      used.set(r.admission_id, r.id);
    }
    return verdict(
      violations,
      `${rows.length} reservation(s), each made with its own admission from the ${log.size} issued`,
      (n) => `${n} reservation(s) without a valid admission of their own`,
    );
  },
};

/**
 * A join's time is its ticket-service instance's clock as it sends the join to Redis, before Redis hands out the
 * number (reading Redis's clock would cost the join a fourth command). Two joins racing through different
 * instances, or one whose answer waited behind a busy event loop, can take numbers in the other order by a few
 * milliseconds to a few hundred: that is the same instant, not a fan passed over. A later number stamped more than
 * this before an earlier one is.
 */
export const JOIN_STAMP_TOLERANCE_MS = 1000;

export const fairQueueOrder: InvariantCheck = {
  name: 'fair-queue-order',
  title: 'Fair queue order',
  async run(ctx) {
    const q = await queueOf(ctx);
    if (q === undefined) return noQueue;
    const violations: unknown[] = [];
    // Admissions went out in ticket order.
    const admissions = (await admissionLog(q.redis, q.key('issued'))).sort(
      (a, b) => a.at - b.at || a.ticket - b.ticket,
    );
    for (let i = 1; i < admissions.length; i++) {
      if (admissions[i]!.ticket < admissions[i - 1]!.ticket) {
        violations.push({
          problem: 'admitted out of ticket order',
          earlier: admissions[i - 1],
          later: admissions[i],
        });
      }
    }
    // Places: the pre-queue (everyone with a join number by the opening's seal) drew places 1…P among themselves,
    // ahead of everyone later; later joiners queue in join order, their place their number.
    const [tickets, cfg] = await Promise.all([
      q.redis.hgetall(q.key('tickets')),
      q.redis.hgetall(q.key('cfg')),
    ]);
    const preSize = cfg.preSize === undefined ? undefined : Number(cfg.preSize);
    // The seal published the lottery's key: every pre-queue place can be worked out again from the draws.
    const lottery =
      preSize === undefined || cfg.preSeed === undefined
        ? undefined
        : new LotteryOrder({ size: preSize, key: cfg.preSeed });
    const joined = new Map(
      Object.entries(tickets).map(([user, value]) => {
        const [number, at] = value.split('|');
        return [user, { user, number: Number(number), joinedAt: Number(at ?? 0) }];
      }),
    );
    const placesSeen = new Map<number, string>();
    for (const a of admissions) {
      const j = joined.get(a.user);
      if (j === undefined) continue;
      const other = placesSeen.get(a.ticket);
      if (other !== undefined && other !== a.user)
        violations.push({ problem: 'one place admitted twice', place: a.ticket, fans: [other, a.user] });
      placesSeen.set(a.ticket, a.user);
      if (preSize === undefined) continue;
      const pre = j.number <= preSize;
      // A fan who joined again later holds a later number than the place they were admitted at: judged by that.
      if (pre && a.ticket > preSize && j.number !== a.ticket)
        violations.push({
          problem: 'a pre-queue fan placed behind a later arrival',
          fan: j,
          place: a.ticket,
        });
      if (pre && a.ticket <= preSize && lottery !== undefined && lottery.placeOf(j.number) !== a.ticket)
        violations.push({
          problem: 'a pre-queue fan admitted at a place other than their draw’s',
          fan: j,
          place: a.ticket,
          drawn: lottery.placeOf(j.number),
        });
      if (!pre && a.ticket <= preSize)
        violations.push({ problem: 'a later arrival placed inside the pre-queue', fan: j, place: a.ticket });
      if (!pre && a.ticket !== j.number && a.ticket > preSize && a.ticket > j.number)
        violations.push({
          problem: 'a later arrival not at its place in join order',
          fan: j,
          place: a.ticket,
        });
    }
    const later = [...joined.values()]
      .filter((j) => preSize !== undefined && j.number > preSize)
      .sort((x, y) => x.number - y.number);
    // Judged against the latest join time among the numbers before it, so a run of later numbers stamped early shows.
    let latest: (typeof later)[number] | undefined;
    for (const j of later) {
      if (latest !== undefined && j.joinedAt < latest.joinedAt - JOIN_STAMP_TOLERANCE_MS)
        violations.push({ problem: 'FIFO inversion after the opening', fan: j, behind: latest });
      if (latest === undefined || j.joinedAt > latest.joinedAt) latest = j;
    }
    const lastPre = preSize ?? 0;
    const entries = joined;
    return verdict(
      violations,
      `${admissions.length} admission(s) in place order; ${lastPre} pre-queue place(s) drawn ahead of the rest; ${entries.size - Math.min(lastPre, entries.size)} later place(s) in arrival order (join times within ${JOIN_STAMP_TOLERANCE_MS} ms are one instant)`,
      (n) => `${n} ordering violation(s)`,
    );
  },
};

/**
 * How far one window of admissions may run over the rate: the ticker banks at most one second of credit. The
 * controller's check with one rate for all time.
 */
export function admissionRateViolations(
  times: readonly number[],
  admitPerSecond: number,
  windowMs = 5000,
): { from: number; admitted: number; allowed: number }[] {
  return controllerViolations(times, [{ at: Number.NEGATIVE_INFINITY, rate: admitPerSecond }], windowMs);
}

export const admissionRateHonoured: InvariantCheck = {
  name: 'admission-rate-honoured',
  title: 'The waiting room admits at its rate, however many replicas tick it',
  async run(ctx) {
    const q = await queueOf(ctx);
    if (q === undefined) return noQueue;
    const { rows } = await ctx.ticket.query('SELECT admit_per_second FROM events WHERE id = $1', [
      ctx.eventId,
    ]);
    const rate = Number(rows[0]?.admit_per_second ?? 0);
    const admissions = await admissionLog(q.redis, q.key('issued'));
    const violations = admissionRateViolations(
      admissions.map((a) => a.at),
      rate,
    );
    return verdict(
      violations,
      `${admissions.length} admission(s), never more than ${rate}/s over any 5 s (plus the one second of credit the ticker banks)`,
      (n) => `${n} window(s) admitted more than the rate allows`,
    );
  },
};

/** The admission controller's steps: from each instant on, the rate it allowed (docs/overload.md). */
export interface ControlStepLog {
  at: number;
  rate: number;
}

/**
 * Windows of `windowMs` in which more fans were admitted than the controller allowed: the integral of its rate over
 * the window, the rate before each step counted too (the admission script's credit accrues since its last tick at
 * the rate it reads then), plus one second of banked credit at the highest rate in the window, plus one. The log
 * starts with the cold-start rate the queue was configured with; before it, its first rate applies.
 */
export function controllerViolations(
  times: readonly number[],
  steps: readonly ControlStepLog[],
  windowMs = 5000,
): { from: number; admitted: number; allowed: number }[] {
  const sorted = [...times].sort((a, b) => a - b);
  const log = [...steps].sort((a, b) => a.at - b.at);
  const rateAt = (t: number): number => {
    let rate = log[0]?.rate ?? Number.POSITIVE_INFINITY;
    for (const s of log) {
      if (s.at > t) break;
      rate = s.rate;
    }
    return rate;
  };
  const allowedIn = (from: number, to: number): number => {
    const cuts = [from, ...log.map((s) => s.at).filter((at) => at > from && at < to), to];
    let total = 0;
    let highest = 0;
    for (let i = 0; i + 1 < cuts.length; i++) {
      const rate = Math.max(rateAt(cuts[i]!), rateAt(cuts[i]! - 1000));
      total += (rate * (cuts[i + 1]! - cuts[i]!)) / 1000;
      highest = Math.max(highest, rate);
    }
    return Math.floor(total + Math.max(highest, 1)) + 1;
  };
  const out: { from: number; admitted: number; allowed: number }[] = [];
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    const admitted = end - start + 1;
    const from = sorted[start]!;
    if (out.length > 0 && from - out.at(-1)!.from < windowMs) continue;
    const allowed = allowedIn(from, from + windowMs);
    if (admitted > allowed) out.push({ from, admitted, allowed });
  }
  return out;
}

export const admissionsFollowController: InvariantCheck = {
  name: 'admissions-follow-controller',
  title: 'The waiting room admits no faster than the admission controller allows',
  async run(ctx) {
    const q = await queueOf(ctx);
    if (q === undefined) return noQueue;
    const { rows } = await ctx.ticket.query('SELECT admission_control FROM events WHERE id = $1', [
      ctx.eventId,
    ]);
    if (rows[0]?.admission_control === 'off')
      return {
        verdict: 'SKIP',
        detail: 'the admission controller was switched off for this event',
        examples: [],
      };
    const steps = (await q.redis.lrange(q.key('ctl-log'), 0, -1)).map((line) => {
      const [at, rate] = line.split('|');
      return { at: Number(at), rate: Number(rate) };
    });
    const admissions = await admissionLog(q.redis, q.key('issued'));
    if (steps.length === 0)
      return { verdict: 'SKIP', detail: 'no admission controller log for this queue', examples: [] };
    const violations = controllerViolations(
      admissions.map((a) => a.at),
      steps,
    );
    return verdict(
      violations,
      `${admissions.length} admission(s) under the controller's ${steps.length} step(s): never more than it allowed over any 5 s`,
      (n) => `${n} window(s) admitted more than the controller allowed`,
    );
  },
};
