import { setTimeout as sleep } from 'node:timers/promises';
import type { Faker } from '@faker-js/faker';
import type { HttpClient } from './http-client.ts';
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
  seatMap: SeatMapView;
  deadline: number;
  /** True once every seat is sold: late arrivals look once and leave. */
  soldOut: () => boolean;
  markSoldOut: () => void;
}

interface Reservation {
  id: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED' | 'EXPIRED';
  reason?: string;
  seats: unknown[];
}

/**
 * One fan's visit: sign up, sign in, wait for the opening, look at the seat map, try for seats (again on 409),
 * and follow the reservation until the saga decides it.
 */
export interface Fan {
  index: number;
  token: string;
}

/**
 * Registration, before the on-sale: fans made their accounts days ago and are signed in when the sale opens.
 * Faker gives each a name and address; the run tag keeps this run's fans apart from earlier runs'.
 */
export async function registerFan(
  http: HttpClient,
  t: Targets,
  runTag: string,
  index: number,
  faker: Faker,
  rec: Recorder,
): Promise<Fan | undefined> {
  const first = faker.person.firstName();
  const last = faker.person.lastName();
  const email = `${faker.internet
    .username({ firstName: first, lastName: last })
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '')}.${index}.${runTag}@fans.example`;
  const password = faker.internet.password({ length: 14 });
  const signup = await http.post(`${t.account}/api/auth/signup`, {
    body: { email, password, name: `${first} ${last}` },
  });
  if (signup.status !== 201) return void rec.error(`signup ${signup.status}`);
  const login = await http.post<{ accessToken: string }>(`${t.account}/api/auth/login`, {
    body: { email, password },
  });
  if (login.status !== 200) return void rec.error(`login ${login.status}`);
  rec.signedIn++;
  return { index, token: login.body.accessToken };
}

/**
 * One fan's on-sale: wait for the opening, look at the seat map, try for seats (again after a 409), and follow
 * the reservation until the saga decides it.
 */
export async function virtualUser(ctx: RunContext, fan: Fan, random: () => number): Promise<void> {
  const { http, recorder: rec, scenario: s, targets: t } = ctx;
  const { token, index } = fan;

  // Waiting for the opening. (The waiting room replaces this with a queue and an admission.)
  const waitStarted = Date.now();
  rec.waiting++;
  const leaves = random() < s.abandonment.beforeAdmission;
  if (Date.now() < ctx.salesOpenAt) await sleep(ctx.salesOpenAt - Date.now());
  rec.waiting--;
  if (leaves) return void rec.abandonedWaiting++;
  rec.admitted++;
  rec.queueWaits.push(Date.now() - waitStarted);

  if (random() < s.abandonment.afterAdmission) return void rec.abandonedAdmitted++;
  if (ctx.soldOut()) return void rec.soldOutSeen++;

  const want = s.seats.perUser.min + Math.floor(random() * (s.seats.perUser.max - s.seats.perUser.min + 1));
  let reservation: Reservation | undefined;
  let reservedAt = 0;
  for (let attempt = 0; attempt <= s.seats.retriesOn409 && Date.now() < ctx.deadline; attempt++) {
    const map = await ctx.seatMap.read();
    const seatIds = chooseSeats(map, want, s.seats.preference, random, s.seats.hotSetSize);
    if (seatIds.length === 0) {
      if (s.seats.preference !== 'hot-set' && !map.some((seat) => seat.status === 'AVAILABLE'))
        ctx.markSoldOut();
      return void rec.soldOutSeen++;
    }
    reservedAt = Date.now();
    const res = await http.post<Reservation>(`${t.ticket}/api/reservations`, {
      token,
      body: { eventId: ctx.eventId, seatIds },
      headers: { 'idempotency-key': `vu-${index}-${attempt}` },
    });
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

  // Follow the saga. A fan's app would poll; the hold bounds how long this can take.
  const until = Date.now() + (s.event.holdSeconds + 30) * 1000;
  while (current.status === 'PENDING' && Date.now() < until) {
    await sleep(500 + random() * 500);
    const res: { status: number; body: Reservation } = await http.get<Reservation>(
      `${t.ticket}/api/reservations/${current.id}`,
      { token },
    );
    if (res.status === 200) current = res.body;
  }
  switch (current.status) {
    case 'CONFIRMED':
      rec.confirmedAfter(Date.now() - reservedAt, current.seats.length);
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
