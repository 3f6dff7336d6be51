import { setTimeout as sleep } from 'node:timers/promises';
import { FAN_PASSWORD, type FanAccount } from './fan-accounts.ts';
import type { HttpClient } from './http-client.ts';
import { patiently } from './patient-request.ts';
import type { Recorder } from './recorder.ts';
import type { Scenario } from './scenario.ts';
import { chooseSeats } from './seat-choice.ts';
import type { SeatMapView } from './seat-map-view.ts';
import type { Targets } from './targets.ts';

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
  /** True once the seat map shows nothing left: late fans look once and leave. */
  soldOut: () => boolean;
  markSoldOut: () => void;
}

interface Reservation {
  id: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED' | 'EXPIRED';
  reason?: string;
  seats: unknown[];
}

interface QueueStatus {
  state: 'waiting' | 'admitted' | 'expired';
  position: number | null;
  soldOut?: boolean;
  admissionToken?: string;
}

type Admission = { token: string | undefined } | 'left' | 'sold-out' | 'failed' | 'gave-up';

/** Queue: join, then poll as the server's Retry-After says, until admitted (or the fan gives up). */
async function waitForAdmission(ctx: RunContext, auth: string, random: () => number): Promise<Admission> {
  const { http, recorder: rec, scenario: s, targets: t } = ctx;
  if (ctx.queueOpensAt !== undefined && Date.now() < ctx.queueOpensAt)
    await sleep(ctx.queueOpensAt - Date.now() + random() * 200);
  const patience = { maxAttempts: 10, until: ctx.deadline };
  const joined = await patiently(
    rec,
    random,
    () => http.post<QueueStatus>(`${t.ticket}/api/events/${ctx.eventId}/queue`, { token: auth }),
    patience,
  );
  if (joined === undefined) return 'gave-up';
  if (joined.status !== 201) {
    rec.error(`queue join ${joined.status}`);
    return 'failed';
  }
  const joinedAt = Date.now();
  // Some fans give up while waiting: they simply stop asking, and the queue drops them when their turn comes.
  const leavesAt =
    random() < s.abandonment.beforeAdmission ? joinedAt + random() * 20_000 : Number.POSITIVE_INFINITY;
  rec.waiting++;
  try {
    while (Date.now() < ctx.deadline) {
      const res = await patiently(
        rec,
        random,
        () => http.get<QueueStatus>(`${t.ticket}/api/events/${ctx.eventId}/queue/me`, { token: auth }),
        patience,
      );
      if (res === undefined) return 'gave-up';
      if (res.status === 200) {
        if (res.body.state === 'admitted') {
          rec.queueWaits.push(Date.now() - joinedAt);
          return { token: res.body.admissionToken };
        }
        if (res.body.soldOut) return 'sold-out';
        if (res.body.state === 'expired') {
          rec.error('dropped from the queue');
          return 'failed';
        }
      }
      if (Date.now() > leavesAt) return 'left';
      const retryAfter = Number(res.headers['retry-after'] ?? 1);
      await sleep(Math.max(250, retryAfter * 1000 * (0.8 + random() * 0.4)));
    }
    return 'failed';
  } finally {
    rec.waiting--;
  }
}

/**
 * One fan's on-sale: sign in, queue (or wait for the opening), look at the seat map, try for seats (again
 * after a 409), and follow the reservation until the saga decides it.
 */
export async function virtualUser(ctx: RunContext, fan: FanAccount, random: () => number): Promise<void> {
  const { http, recorder: rec, scenario: s, targets: t } = ctx;
  const patience = { maxAttempts: 10, until: ctx.deadline };
  const login = await patiently(
    rec,
    random,
    () =>
      http.post<{ accessToken: string }>(`${t.account}/api/auth/login`, {
        body: { email: fan.email, password: FAN_PASSWORD },
      }),
    patience,
  );
  if (login === undefined) return void rec.fansGaveUp++;
  if (login.status !== 200) return void rec.error(`login ${login.status}`);
  const auth = login.body.accessToken;
  rec.signedIn++;

  let admissionToken: string | undefined;
  if (ctx.queueOpensAt !== undefined) {
    const admission = await waitForAdmission(ctx, auth, random);
    if (admission === 'left') return void rec.abandonedWaiting++;
    if (admission === 'sold-out') return void rec.soldOutSeen++;
    if (admission === 'failed') return;
    if (admission === 'gave-up') return void rec.fansGaveUp++;
    admissionToken = admission.token;
  } else {
    rec.waiting++;
    const leaves = random() < s.abandonment.beforeAdmission;
    const waitStarted = Date.now();
    if (Date.now() < ctx.salesOpenAt) await sleep(ctx.salesOpenAt - Date.now());
    rec.waiting--;
    if (leaves) return void rec.abandonedWaiting++;
    rec.queueWaits.push(Date.now() - waitStarted);
  }
  rec.admitted++;

  // Admitted and gone: the slot lapses after the no-show time and goes to the next fan.
  if (random() < s.abandonment.afterAdmission) return void rec.abandonedAdmitted++;
  if (ctx.soldOut()) return void rec.soldOutSeen++;

  const want = s.seats.perUser.min + Math.floor(random() * (s.seats.perUser.max - s.seats.perUser.min + 1));
  let reservation: Reservation | undefined;
  let reservedAt = 0;
  const headers: Record<string, string> =
    admissionToken === undefined ? {} : { 'x-admission-token': admissionToken };
  for (let attempt = 0; attempt <= s.seats.retriesOn409 && Date.now() < ctx.deadline; attempt++) {
    const map = await ctx.seatMap.read();
    const seatIds = chooseSeats(map, want, s.seats.preference, random, s.seats.hotSetSize);
    if (seatIds.length === 0) {
      // Held is not sold: a held seat comes back when its payment fails or its hold runs out. A fan who sees
      // only held seats looks again a little later, as people refresh; only a map of sold seats ends the sale.
      if (
        s.seats.preference !== 'hot-set' &&
        map.some((seat) => seat.status === 'HELD') &&
        Date.now() < ctx.deadline
      ) {
        await sleep(1000 + random() * 2000);
        // The page still says "I am here" to the waiting room, or the admission lapses meanwhile.
        if (admissionToken !== undefined)
          await http.get(`${t.ticket}/api/events/${ctx.eventId}/queue/me`, { token: auth });
        attempt--;
        continue;
      }
      if (s.seats.preference !== 'hot-set' && map.length > 0 && map.every((seat) => seat.status === 'SOLD'))
        ctx.markSoldOut();
      return void rec.soldOutSeen++;
    }
    reservedAt = Date.now();
    // The same Idempotency-Key on every retry: a booking that went through before its answer was lost comes back
    // as itself, never as a second booking.
    const res = await patiently(
      rec,
      random,
      () =>
        http.post<Reservation>(`${t.ticket}/api/reservations`, {
          token: auth,
          body: { eventId: ctx.eventId, seatIds },
          headers: { ...headers, 'idempotency-key': `fan-${fan.index}-${attempt}` },
        }),
      patience,
    );
    if (res === undefined) return void rec.fansGaveUp++;
    if (res.status === 202) {
      reservation = res.body;
      rec.reservations++;
      rec.reservedSeats += seatIds.length;
      break;
    }
    if (res.status === 409) {
      rec.conflicts++;
      // Someone was faster. A person looks at the map again before the next try.
      await sleep(200 + random() * 600);
      continue;
    }
    return void rec.error(`reserve ${res.status}`);
  }
  if (reservation === undefined) return;
  let current: Reservation = reservation;

  // Follow the saga, as a fan's app would by polling. The hold bounds how long this takes in fair weather; an
  // outage can stretch it, so the fan waits at least two minutes before giving up on an answer.
  const until = Date.now() + Math.max(s.event.holdSeconds + 30, 120) * 1000;
  while (current.status === 'PENDING' && Date.now() < until) {
    await sleep(500 + random() * 500);
    const res: { status: number; body: Reservation } = await http.get<Reservation>(
      `${t.ticket}/api/reservations/${current.id}`,
      { token: auth },
    );
    if (res.status === 200) current = res.body;
  }
  switch (current.status) {
    case 'CONFIRMED':
      rec.confirmedAfter(Date.now() - reservedAt, current.seats.length);
      if (random() < s.abandonment.cancelAfterPaying) await cancelPaidBooking(ctx, auth, current.id, random);
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
}

/** A fan who paid changes their mind: the booking is cancelled, its seats go back on sale and the money back. */
async function cancelPaidBooking(ctx: RunContext, auth: string, id: string, random: () => number) {
  const { http, recorder: rec, targets: t } = ctx;
  await sleep(1000 + random() * 2000);
  const res = await patiently(
    rec,
    random,
    () => http.del<Reservation>(`${t.ticket}/api/reservations/${id}`, { token: auth }),
    { maxAttempts: 10, until: Date.now() + 60_000 },
  );
  if (res === undefined) return void rec.fansGaveUp++;
  if (res.status === 200) return void rec.cancelledAfterPaying++;
  // A retry after a lost answer finds the booking already cancelled: the first attempt went through.
  const now = await http.get<Reservation>(`${t.ticket}/api/reservations/${id}`, { token: auth });
  if (res.status === 409 && now.body?.status === 'CANCELLED') return void rec.cancelledAfterPaying++;
  rec.error(`cancel after paying ${res.status}`);
}
