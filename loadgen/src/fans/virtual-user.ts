import type { Span } from '@reservex/kit';
import type { Targets } from '@reservex/stack';
import type { Recorder } from '../run/recorder.ts';
import type { Scenario } from '../scenario.ts';
import {
  cancelAnswered,
  judge,
  misbehaveAfterBooking,
  misbehaveWhenAdmitted,
  pickMisbehaviours,
  type ReserveRequest,
  replay,
  skipTheQueue,
  submitTwice,
  type TokenPool,
  userIdOf,
} from './adversaries.ts';
import { FAN_PASSWORD, type FanAccount } from './fan-accounts.ts';
import { fanSleep as sleep } from './fan-sleep.ts';
import type { HttpClient } from './http-client.ts';
import type { Misbehaviour } from './misbehaviour-kinds.ts';
import { patiently } from './patient-request.ts';
import { chooseSeats, seatIndex } from './seat-choice.ts';
import type { SeatMapView } from './seat-map-view.ts';
import type { Admission, Admitted, QueuedFan, WaitingFans } from './waiting-fans.ts';

export interface RunContext {
  scenario: Scenario;
  targets: Targets;
  http: HttpClient;
  recorder: Recorder;
  eventId: string;
  salesOpenAt: number;
  /** Set when the event sells through its waiting room. */
  queueOpensAt: number | undefined;
  seatMap: SeatMapView;
  deadline: number;
  /** Admission tokens fans were given, for misbehaving fans to borrow. */
  tokens: TokenPool;
  /** The fans in the waiting room, each polling when told. */
  waitingFans: WaitingFans<Fan>;
  /** Called once for each fan whose part in the sale has ended, with the error that ended it if one did. */
  fanEnded: (index: number, span: Span, error?: Error) => void;
}

interface Reservation {
  id: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED' | 'EXPIRED';
  reason?: string;
  seats: unknown[];
}

/** What a join answers that the fan keeps: their signed place, and whom to ask next. */
interface JoinAnswer {
  queueTicket: string;
  number: number;
  draw: number;
  ask: 'edge' | 'origin';
}

/** A signed-in fan, as much of them as outlives a wait in the queue (one per fan in a stadium's crowd). */
export interface Fan extends QueuedFan {
  index: number;
  misbehaves: ReadonlySet<Misbehaviour>;
  userId: string;
  want: number;
}

/** The fan's reservation request, retried as their app would; the same key on every retry of one request. */
function reserveAs(ctx: RunContext, fan: Fan): ReserveRequest {
  const { http, recorder: rec, targets: t } = ctx;
  return ({ seatIds, key, token }) =>
    patiently(
      rec,
      fan.random,
      () =>
        http.post<Reservation>(`${t.ticket}/api/reservations`, {
          token: fan.auth,
          body: { eventId: ctx.eventId, seatIds },
          headers: { ...(token === undefined ? {} : { 'x-admission-token': token }), 'idempotency-key': key },
        }),
      { maxAttempts: 10, until: ctx.deadline },
    );
}

/**
 * Queue: join, then hand the fan to the waiting fans (waiting-fans.ts), who poll as the server's Retry-After says
 * until admitted (or the fan gives up) and then go on with `afterQueue`. An impatient fan tries to book past the
 * queue once, right after joining; its place stays. Answers whether the fan is now in the queue; if not, their
 * part has ended here.
 */
async function joinQueue(ctx: RunContext, fan: Fan, impatient?: () => Promise<void>): Promise<boolean> {
  const { http, recorder: rec, scenario: s, targets: t } = ctx;
  const { auth, random } = fan;
  if (ctx.queueOpensAt !== undefined && Date.now() < ctx.queueOpensAt)
    await sleep(ctx.queueOpensAt - Date.now() + random() * 200);
  const joined = await patiently(
    rec,
    random,
    // A join is idempotent: a fan who joins again gets their own place back (200), so a join lost to a closing
    // connection is sent again.
    () =>
      http.post<JoinAnswer>(`${t.ticket}/api/events/${ctx.eventId}/queue`, { token: auth, idempotent: true }),
    // A waiting room's page keeps trying while the service turns joins away under a herd, as the page does
    // (web/src/fan/queue-panel.tsx): it says when to come back, later the busier it is.
    { maxAttempts: 40, until: ctx.deadline },
  );
  if (joined === undefined) {
    rec.fansGaveUp++;
    return false;
  }
  // 200: a retry whose first attempt had joined already (its answer lost): the same place.
  if (joined.status !== 201 && joined.status !== 200) {
    rec.error(`queue join ${joined.status}`);
    return false;
  }
  // Alongside the waiting, so the fan keeps its place while it tries.
  const trying = impatient?.().catch((error: Error) => rec.error(`impatient fan: ${error.message}`));
  // Some fans give up while waiting: they simply stop asking, and the queue drops them when their turn comes.
  const leavesAt =
    random() < s.abandonment.beforeAdmission
      ? Date.now() + random() * s.abandonment.patienceSeconds * 1000
      : Number.POSITIVE_INFINITY;
  // The first poll when the join's Retry-After tells, each next one when its poll's does.
  ctx.waitingFans.wait(fan, {
    leavesAt,
    ticket: joined.body.queueTicket,
    number: joined.body.number,
    draw: joined.body.draw,
    ask: joined.body.ask,
    firstPollAfterSeconds: Number(joined.headers['retry-after'] ?? 0),
    trying,
  });
  return true;
}

/** A fan whose wait in the queue has ended: on to booking if admitted, else counted and done. */
export function afterQueue(ctx: RunContext, fan: Fan, admission: Admission): void {
  const rec = ctx.recorder;
  const ended = (error?: Error) => ctx.fanEnded(fan.index, fan.span, error);
  if (admission === 'left') rec.abandonedWaiting++;
  else if (admission === 'sold-out') rec.soldOutSeen++;
  else if (admission === 'gave-up') rec.fansGaveUp++;
  else if (admission !== 'failed') {
    if (admission.token !== undefined) ctx.tokens.add(admission.token);
    return void book(ctx, fan, admission).then(() => ended(), ended);
  }
  ended();
}

/**
 * One fan's on-sale: sign in, queue (or wait for the opening), look at the seat map, try for seats (again
 * after a 409), and follow the reservation until the saga decides it. `ctx.fanEnded` hears when it is over.
 */
export function virtualUser(ctx: RunContext, account: FanAccount, random: () => number, span: Span): void {
  const ended = (error?: Error) => ctx.fanEnded(account.index, span, error);
  // A fan handed to the waiting room ends from there (afterQueue): nothing here stays suspended meanwhile.
  void arrive(ctx, account, random, span).then((queued) => {
    if (!queued) ended();
  }, ended);
}

/** Up to the queue, or through the whole sale where there is none. True if the fan is now in the queue. */
async function arrive(
  ctx: RunContext,
  account: FanAccount,
  random: () => number,
  span: Span,
): Promise<boolean> {
  const { http, recorder: rec, scenario: s, targets: t } = ctx;
  let auth = account.accessToken;
  if (auth === undefined) {
    const login = await patiently(
      rec,
      random,
      () =>
        http.post<{ accessToken: string }>(`${t.account}/api/auth/login`, {
          body: { email: account.email, password: FAN_PASSWORD },
        }),
      { maxAttempts: 10, until: ctx.deadline },
    );
    if (login === undefined) {
      rec.fansGaveUp++;
      return false;
    }
    if (login.status !== 200) {
      rec.error(`login ${login.status}`);
      return false;
    }
    auth = login.body.accessToken;
  }
  rec.signedIn++;
  const misbehaves = pickMisbehaviours(s, random);
  const fan: Fan = {
    index: account.index,
    auth,
    random,
    span,
    misbehaves,
    userId: misbehaves.size > 0 ? userIdOf(auth) : '',
    want: s.seats.perUser.min + Math.floor(random() * (s.seats.perUser.max - s.seats.perUser.min + 1)),
  };
  if (ctx.queueOpensAt !== undefined) {
    const impatient =
      misbehaves.has('no-token') || misbehaves.has('forged-token')
        ? async () => {
            if (Date.now() < ctx.salesOpenAt) await sleep(ctx.salesOpenAt - Date.now() + random() * 1000);
            const map = await ctx.seatMap.read();
            const seatIds = chooseSeats(map, fan.want, s.seats.preference, random, s.seats.hotSetSize);
            await skipTheQueue({
              kinds: misbehaves,
              rec,
              reserve: reserveAs(ctx, fan),
              userId: fan.userId,
              fanIndex: fan.index,
              seatIds,
            });
          }
        : undefined;
    return joinQueue(ctx, fan, impatient);
  }
  rec.waiting++;
  const leaves = random() < s.abandonment.beforeAdmission;
  const waitStarted = Date.now();
  if (Date.now() < ctx.salesOpenAt) await sleep(ctx.salesOpenAt - Date.now());
  rec.waiting--;
  if (leaves) {
    rec.abandonedWaiting++;
    return false;
  }
  rec.queueWaits.push(Date.now() - waitStarted);
  await book(ctx, fan, undefined);
  return false;
}

/** Admitted (or the sale open): choose seats, book, and follow the booking until the saga decides it. */
async function book(ctx: RunContext, fan: Fan, admission: Admitted | undefined): Promise<void> {
  const { http, recorder: rec, scenario: s, targets: t } = ctx;
  const { auth, random, misbehaves, userId, want } = fan;
  const admissionToken = admission?.token;
  const reserve = reserveAs(ctx, fan);
  rec.admitted++;

  // Admitted and gone: the slot lapses after the no-show time and goes to the next fan.
  if (random() < s.abandonment.afterAdmission) return void rec.abandonedAdmitted++;
  // Every admitted fan looks at the map (a shared copy, revalidated every 250 ms), even after a sellout: a paid
  // booking cancelled later puts its seats back on sale, and the next fans in line must find them.

  let reservation: Reservation | undefined;
  let reservedAt = 0;
  let booked: { key: string; seatIds: string[]; token: string | undefined } | undefined;
  let otherSeatIds: string[] = [];
  for (let attempt = 0; attempt <= s.seats.retriesOn409 && Date.now() < ctx.deadline; attempt++) {
    const map = await ctx.seatMap.read();
    const seatIds = chooseSeats(map, want, s.seats.preference, random, s.seats.hotSetSize);
    if (attempt === 0 && misbehaves.size > 0)
      await misbehaveWhenAdmitted({
        kinds: misbehaves,
        rec,
        reserve,
        userId,
        fanIndex: fan.index,
        ownToken: admissionToken,
        queued: ctx.queueOpensAt !== undefined,
        tokens: ctx.tokens,
        seatIds,
        maxSeatsPerUser: s.event.maxSeatsPerUser,
        allSeatIds: () => map.map((seat) => seat.id),
        random,
      });
    if (seatIds.length === 0) {
      // Held is not sold: a held seat comes back when its payment fails or its hold runs out. A fan who sees
      // only held seats looks again a little later, as people refresh; only a map of sold seats ends the sale.
      const { held } = seatIndex(map);
      if (s.seats.preference !== 'hot-set' && held > 0 && Date.now() < ctx.deadline) {
        await sleep(1000 + random() * 2000);
        // The page still says "I am here" to the waiting room, or the admission lapses meanwhile.
        if (admission?.token !== undefined)
          await http.get(`${t.ticket}/api/events/${ctx.eventId}/queue/me`, {
            token: auth,
            headers: { 'x-queue-ticket': admission.ticket },
          });
        attempt--;
        continue;
      }
      return void rec.soldOutSeen++;
    }
    reservedAt = Date.now();
    // The same Idempotency-Key on every retry: a booking that went through before its answer was lost comes back
    // as itself, never as a second booking.
    const request = { seatIds, key: `fan-${fan.index}-${attempt}`, token: admissionToken };
    const res =
      misbehaves.has('double-submit') && attempt === 0
        ? await submitTwice(rec, reserve, request)
        : await reserve(request);
    if (res === undefined) {
      rec.turnedAway++;
      return void rec.fansGaveUp++;
    }
    if (res.status === 202) {
      reservation = res.body as Reservation;
      booked = request;
      // The first seat that is not this booking's: found without copying a 50,000-seat map per booking.
      const other = map.find((seat) => !seatIds.includes(seat.id));
      otherSeatIds = other === undefined ? [] : [other.id];
      rec.reservations++;
      rec.reservedSeats += seatIds.length;
      rec.bookingAcknowledged(reservation.id, seatIds);
      break;
    }
    if (res.status === 409) {
      rec.conflicts++;
      // Someone was faster. A person looks at the map again before the next try.
      await sleep(200 + random() * 600);
      continue;
    }
    // Admitted, wanting a seat, and refused for something other than a seat race: unserved.
    rec.turnedAway++;
    return void rec.error(`reserve ${res.status}`);
  }
  if (reservation === undefined) return;
  let current: Reservation = reservation;
  if (misbehaves.size > 0 && booked !== undefined)
    await misbehaveAfterBooking({
      kinds: misbehaves,
      rec,
      http,
      reserve,
      cancelUrl: `${t.ticket}/api/reservations/${current.id}`,
      auth,
      userId,
      fanIndex: fan.index,
      booked,
      otherSeatIds,
      queued: ctx.queueOpensAt !== undefined,
      random,
    });

  // Follow the saga, as a fan's app would by polling. The hold bounds how long this takes in fair weather; an
  // outage can stretch it, so the fan waits at least two minutes before giving up on an answer.
  const until = Date.now() + Math.max(s.event.holdSeconds + 30, 120) * 1000;
  let pollAfterMs = 1000;
  while (current.status === 'PENDING' && Date.now() < until) {
    // As the server says (Retry-After, on a PENDING answer or a 503), with jitter.
    await sleep(pollAfterMs * (0.5 + random() * 0.5));
    const res: { status: number; body: Reservation; headers: Record<string, unknown> } =
      await http.get<Reservation>(`${t.ticket}/api/reservations/${current.id}`, { token: auth });
    if (res.status === 200) current = res.body;
    const hint = Number(res.headers['retry-after']);
    pollAfterMs = Number.isFinite(hint) && hint > 0 ? hint * 1000 : 1000;
  }
  switch (current.status) {
    case 'CONFIRMED':
      rec.confirmedAfter(Date.now() - reservedAt, current.seats.length, current.id);
      if (misbehaves.has('cancel-confirmed') || random() < s.abandonment.cancelAfterPaying)
        await cancelPaidBooking(ctx, auth, current.id, random, misbehaves.has('cancel-confirmed'));
      break;
    case 'CANCELLED':
      if (current.reason === 'payment-failed') rec.paymentFailed++;
      else rec.cancelled++;
      break;
    case 'EXPIRED':
      rec.expired++;
      break;
    default:
      rec.error(`reservation ${current.id} still PENDING after its hold`);
  }
  if (misbehaves.has('replay') && booked !== undefined) await replay(rec, reserve, booked, reservation.id);
}

/** A fan who paid changes their mind: the booking is cancelled, its seats go back on sale and the money back. */
async function cancelPaidBooking(
  ctx: RunContext,
  auth: string,
  id: string,
  random: () => number,
  judged: boolean,
) {
  const { http, recorder: rec, targets: t } = ctx;
  await sleep(1000 + random() * 2000);
  // From the first try on: an answer lost on the way back may leave it cancelled without the fan knowing.
  rec.cancellationAsked(id);
  const res = await patiently(
    rec,
    random,
    () => http.del<Reservation>(`${t.ticket}/api/reservations/${id}`, { token: auth }),
    { maxAttempts: 10, until: Date.now() + 60_000 },
  );
  if (judged) judge(rec, 'cancel-confirmed', res, cancelAnswered);
  if (res === undefined) return void rec.fansGaveUp++;
  if (res.status === 200) return void rec.paidBookingCancelled(res.body?.seats.length ?? 0);
  // A retry after a lost answer finds the booking already cancelled: the first attempt went through.
  const now = await http.get<Reservation>(`${t.ticket}/api/reservations/${id}`, { token: auth });
  if (res.status === 409 && now.body?.status === 'CANCELLED') {
    return void rec.paidBookingCancelled(now.body.seats.length);
  }
  rec.error(`cancel after paying ${res.status}`);
}
