import type { Recorder } from '../run/recorder.ts';
import type { Scenario } from '../scenario.ts';
import type { HttpClient } from './http-client.ts';
import type { Misbehaviour, Refusal } from './misbehaviour-kinds.ts';
import { patiently } from './patient-request.ts';

const PROBLEM = 'https://reservex.dev/problems/';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** Shared by every well-behaved fan: an empty set of its own for each fan of a stadium's crowd cost 200 B a fan. */
const NONE: ReadonlySet<Misbehaviour> = new Set();

/**
 * A share of the fans misbehave, each trying every kind the scenario names (so that even a small run tries each
 * one several times); of the two cancellations it does one, since a booking cancelled while pending never gets
 * to be cancelled after paying.
 */
export function pickMisbehaviours(s: Scenario, random: () => number): ReadonlySet<Misbehaviour> {
  const a = s.adversaries;
  if (a === undefined || a.kinds.length === 0 || random() >= a.share) return NONE;
  const picked = new Set<Misbehaviour>(a.kinds);
  if (picked.has('cancel-pending') && picked.has('cancel-confirmed'))
    picked.delete(random() < 0.5 ? 'cancel-pending' : 'cancel-confirmed');
  return picked;
}

/** The fan's user id, from the access token's subject: the checker looks refusals up by (user, key). */
export function userIdOf(accessToken: string): string {
  const payload = accessToken.split('.')[1] ?? '';
  return String(
    (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub?: string }).sub ?? '',
  );
}

/** Tokens other fans were admitted with: a foreign-token fan borrows one. Bounded, newest kept. */
export class TokenPool {
  readonly #tokens: string[] = [];
  add(token: string): void {
    this.#tokens.push(token);
    if (this.#tokens.length > 200) this.#tokens.shift();
  }
  other(than: string | undefined, random: () => number): string | undefined {
    const others = this.#tokens.filter((t) => t !== than);
    return others[Math.floor(random() * others.length)];
  }
}

/** Judges and records one misbehaviour's answer. */
export function judge(
  rec: Recorder,
  kind: Misbehaviour,
  res: Reply | undefined,
  expected: { status: number; problem?: string | string[] } | ((res: Reply) => boolean),
  refusal?: Omit<Refusal, 'kind'>,
): boolean {
  const tally = rec.misbehaviour(kind);
  tally.tried++;
  if (res === undefined) return false; // no answer after the fan's patience: counted as tried, not judged
  const ok =
    typeof expected === 'function'
      ? expected(res)
      : res.status === expected.status &&
        (expected.problem === undefined ||
          [expected.problem].flat().some((p) => (res.body as { type?: string })?.type === `${PROBLEM}${p}`));
  if (ok) {
    tally.refused++;
    if (refusal !== undefined) rec.refusals.push({ ...refusal, kind });
  } else {
    tally.wrong++;
    const type = (res.body as { type?: string })?.type ?? '';
    if (rec.wrongAnswers.length < 50) rec.wrongAnswers.push(`${kind}: ${res.status} ${type}`.trim());
  }
  return ok;
}

export type ReserveRequest = (o: {
  seatIds: string[];
  key: string;
  token: string | undefined;
}) => Promise<Reply | undefined>;

/**
 * The button pressed twice: one booking at most, and both answers about it. The two queue on the fan's lock, so the
 * one served first may lose a seat race (another fan's hold, a deadlock victim) that the other then wins: the key
 * names no booking until one is made. A 409 answered after the booking is the other request tripping over its own
 * sibling's seats: wrong, as are two bookings. Returns the answer the fan goes on with.
 */
export async function submitTwice(
  rec: Recorder,
  reserve: ReserveRequest,
  request: Parameters<ReserveRequest>[0],
): Promise<Reply | undefined> {
  const timed = async () => {
    const r = await reserve(request);
    return r === undefined ? undefined : { ...r, at: performance.now() };
  };
  const [first, second] = await Promise.all([timed(), timed()]);
  judge(rec, 'double-submit', second, (r) => doubleSubmitAnswered(first, { ...r, at: second?.at ?? 0 }));
  return first?.status === 202 || second?.status !== 202 ? first : second;
}

/** Whether two answers to one request sent twice at once are both right (see submitTwice). */
export function doubleSubmitAnswered(
  a: { status: number; body: unknown; at: number } | undefined,
  b: { status: number; body: unknown; at: number } | undefined,
): boolean {
  if (a === undefined || b === undefined) return false;
  const booked = [a, b].filter((r) => r.status === 202).map((r) => (r.body as { id?: string }).id);
  if (new Set(booked).size > 1) return false;
  if (a.status === b.status) return true;
  const [won, lost] = a.status === 202 ? [a, b] : [b, a];
  return won.status === 202 && lost.status === 409 && lost.at < won.at;
}

/** An old request sent again (a stale tab, a proxy's retry): it must come back as the same booking. */
export async function replay(
  rec: Recorder,
  reserve: ReserveRequest,
  request: Parameters<ReserveRequest>[0],
  reservationId: string,
): Promise<void> {
  const again = await reserve(request);
  judge(rec, 'replay', again, (r) => r.status === 202 && (r.body as { id?: string }).id === reservationId);
}

type Attempt = (
  kind: Misbehaviour,
  token: string | undefined,
  problem: string | string[],
  seatIds: string[],
) => Promise<boolean>;

function attempter(rec: Recorder, reserve: ReserveRequest, userId: string, fanIndex: number): Attempt {
  return async (kind, token, problem, seatIds) => {
    const key = `adv-${fanIndex}-${kind}`;
    return judge(
      rec,
      kind,
      await reserve({ seatIds, key, token }),
      { status: 403, problem },
      { userId, idempotencyKey: key },
    );
  };
}

/**
 * The impatient: once sales are open, a queued fan tries to book without waiting for its turn, with no admission
 * token or a forged one. Both must be refused, and book nothing; the fan keeps its place in the queue.
 */
export async function skipTheQueue(o: {
  kinds: ReadonlySet<Misbehaviour>;
  rec: Recorder;
  reserve: ReserveRequest;
  userId: string;
  fanIndex: number;
  seatIds: string[];
}): Promise<void> {
  const attempt = attempter(o.rec, o.reserve, o.userId, o.fanIndex);
  if (o.seatIds.length === 0) return;
  if (o.kinds.has('no-token')) await attempt('no-token', undefined, 'admission-missing', o.seatIds);
  if (o.kinds.has('forged-token')) {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const forged = `${part({ alg: 'HS256', typ: 'admission+jwt' })}.${part({ sub: o.userId })}.AAAA`;
    await attempt('forged-token', forged, 'admission-invalid', o.seatIds);
  }
}

/** Once admitted, before the fan's own booking: someone else's token, and more seats than the limit. */
export async function misbehaveWhenAdmitted(o: {
  kinds: ReadonlySet<Misbehaviour>;
  rec: Recorder;
  reserve: ReserveRequest;
  userId: string;
  fanIndex: number;
  ownToken: string | undefined;
  queued: boolean;
  tokens: TokenPool;
  seatIds: string[];
  maxSeatsPerUser: number;
  allSeatIds: () => string[];
  random: () => number;
}): Promise<void> {
  const { kinds, rec, reserve, userId, fanIndex } = o;
  const attempt = attempter(rec, reserve, userId, fanIndex);
  // A borrowed token may have lapsed by now: refused as expired is as right as refused as someone else's.
  const foreign = o.queued && kinds.has('foreign-token') ? o.tokens.other(o.ownToken, o.random) : undefined;
  if (foreign !== undefined && o.seatIds.length > 0)
    await attempt('foreign-token', foreign, ['admission-wrong-user', 'admission-expired'], o.seatIds);
  if (kinds.has('over-limit')) {
    const many = o.allSeatIds().slice(0, Math.min(20, o.maxSeatsPerUser + 1));
    const key = `adv-${fanIndex}-over-limit`;
    if (many.length > o.maxSeatsPerUser)
      judge(
        rec,
        'over-limit',
        await reserve({ seatIds: many, key, token: o.ownToken }),
        { status: 409, problem: 'seat-limit' },
        { userId, idempotencyKey: key },
      );
  }
}

/** The misbehaviours that come after a fan's booking was accepted: a reused key, a spent token, a hasty cancel. */
export async function misbehaveAfterBooking(o: {
  kinds: ReadonlySet<Misbehaviour>;
  rec: Recorder;
  http: HttpClient;
  reserve: ReserveRequest;
  cancelUrl: string;
  auth: string;
  userId: string;
  fanIndex: number;
  booked: { key: string; seatIds: string[]; token: string | undefined };
  otherSeatIds: string[];
  queued: boolean;
  random: () => number;
}): Promise<void> {
  const { kinds, rec, reserve, userId, booked } = o;
  if (kinds.has('key-reuse') && o.otherSeatIds.length > 0)
    judge(
      rec,
      'key-reuse',
      await reserve({ seatIds: o.otherSeatIds, key: booked.key, token: booked.token }),
      { status: 422, problem: 'idempotency-key-reused' },
      { userId, idempotencyKey: booked.key, keptSeats: booked.seatIds },
    );
  if (kinds.has('spent-token') && o.queued) {
    const key = `adv-${o.fanIndex}-spent-token`;
    judge(
      rec,
      'spent-token',
      await reserve({
        seatIds: o.otherSeatIds.length > 0 ? o.otherSeatIds : booked.seatIds,
        key,
        token: booked.token,
      }),
      {
        status: 403,
        problem: 'admission-spent',
      },
      { userId, idempotencyKey: key },
    );
  }
  if (kinds.has('cancel-pending'))
    judge(
      rec,
      'cancel-pending',
      // Sent as the fan's app sends it, again after a 503 from a saturated service: that is "later", not an answer.
      await patiently(rec, o.random, () => o.http.del(o.cancelUrl, { token: o.auth }), {
        maxAttempts: 10,
        until: Date.now() + 60_000,
      }),
      // The saga may have ended the booking first (a declined payment): then 409 not-cancellable is right.
      cancelAnswered,
    );
}

/** A cancel is answered 200, or 409 not-cancellable when the saga had already ended the booking. */
export function cancelAnswered(res: Reply): boolean {
  return (
    res.status === 200 ||
    (res.status === 409 && (res.body as { type?: string })?.type === `${PROBLEM}not-cancellable`)
  );
}
