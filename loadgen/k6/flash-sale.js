// The flash-sale flow in k6: each VU is a fan who signs up, joins the waiting room, waits for admission at the
// Retry-After pace, reserves seats with the admission token (trying again after a 409), and follows the saga to
// its end. setup() creates the event as the admin. Run it with `npm run loadtest:k6 [-- <script>]`, which
// brings the stack up and passes the URLs.
import { check, fail, sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';

const ACCOUNT = __ENV.ACCOUNT_URL || 'http://127.0.0.1:8081';
const TICKET = __ENV.TICKET_URL || 'http://127.0.0.1:8080';
const FANS = Number(__ENV.FANS || 40);
const SEATS = Number(__ENV.SEATS || 20);

const reserveToConfirmed = new Trend('reserve_to_confirmed', true);
const queueWait = new Trend('queue_wait', true);
const outcomes = new Counter('booking_outcomes');

// 409 (seat taken) is an answer the flow expects, not a failure.
http.setResponseCallback(http.expectedStatuses({ min: 200, max: 299 }, 409));

export const options = {
  scenarios: {
    onsale: { executor: 'shared-iterations', vus: FANS, iterations: FANS, maxDuration: '3m' },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    'http_req_duration{name:queue-me}': ['p(95)<500'],
    reserve_to_confirmed: ['p(95)<15000'],
  },
};

const params = (token, extra = {}) => ({
  headers: {
    'content-type': 'application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...extra,
  },
});

export function setup() {
  const login = http.post(
    `${ACCOUNT}/api/auth/login`,
    JSON.stringify({ email: __ENV.ADMIN_EMAIL, password: __ENV.ADMIN_PASSWORD }),
    params(),
  );
  if (login.status !== 200) fail(`admin login failed: ${login.status}`);
  const admin = login.json('accessToken');
  const salesOpenAt = Date.now() + 5000;
  const rows = Math.max(1, Math.ceil(SEATS / 10));
  const created = http.post(
    `${TICKET}/api/events`,
    JSON.stringify({
      name: `k6 on-sale ${new Date().toISOString()}`,
      venue: 'k6 Arena',
      startsAt: new Date(salesOpenAt + 86400000).toISOString(),
      salesOpenAt: new Date(salesOpenAt).toISOString(),
      holdSeconds: 30,
      maxSeatsPerUser: 2,
      sections: [{ name: 'A', rows, seatsPerRow: 10, price: 99000 }],
      queue: { opensAt: new Date(salesOpenAt - 3000).toISOString(), admitPerSecond: 20, maxActive: 20 },
    }),
    params(admin),
  );
  if (created.status !== 201) fail(`creating the event failed: ${created.status} ${created.body}`);
  return { eventId: created.json('id'), salesOpenAt, run: `${Date.now()}` };
}

export default function (data) {
  const fan = `${data.run}-${exec.scenario.iterationInTest}`;
  const email = `k6.${fan}@fans.example`;
  const password = 'lightstick-2026!';
  const signup = http.post(
    `${ACCOUNT}/api/auth/signup`,
    JSON.stringify({ email, password, name: `k6 fan ${fan}` }),
    params(),
  );
  check(signup, { 'signed up': (r) => r.status === 201 });
  const login = http.post(`${ACCOUNT}/api/auth/login`, JSON.stringify({ email, password }), params());
  if (!check(login, { 'signed in': (r) => r.status === 200 })) return;
  const token = login.json('accessToken');

  // The queue opens 3 s before sales; fans who come earlier wait for it like a person refreshing the page.
  const queueOpensAt = data.salesOpenAt - 3000;
  if (Date.now() < queueOpensAt) sleep((queueOpensAt - Date.now()) / 1000 + Math.random());
  const joinedAt = Date.now();
  const joined = http.post(`${TICKET}/api/events/${data.eventId}/queue`, '{}', params(token));
  if (!check(joined, { 'joined the queue': (r) => r.status === 201 || r.status === 200 })) return;

  let admission;
  while (Date.now() - joinedAt < 120000) {
    const me = http.get(`${TICKET}/api/events/${data.eventId}/queue/me`, {
      headers: { authorization: `Bearer ${token}` },
      tags: { name: 'queue-me' },
    });
    if (me.status === 200 && me.json('state') === 'admitted') {
      admission = me.json('admissionToken');
      break;
    }
    if (me.status === 200 && (me.json('state') === 'expired' || me.json('soldOut'))) break;
    sleep(Number(me.headers['Retry-After'] || 1));
  }
  if (admission === undefined) {
    outcomes.add(1, { outcome: 'not-admitted' });
    return;
  }
  queueWait.add(Date.now() - joinedAt);
  check(admission, { 'admitted with a token': (a) => typeof a === 'string' && a.length > 20 });

  for (let attempt = 0; attempt < 5; attempt++) {
    const map = http.get(`${TICKET}/api/events/${data.eventId}/seats`, { tags: { name: 'seat-map' } });
    const free = map.json().filter((s) => s.status === 'AVAILABLE');
    if (free.length === 0) {
      outcomes.add(1, { outcome: 'sold-out' });
      return;
    }
    const seat = free[Math.floor(Math.random() * free.length)];
    const reservedAt = Date.now();
    const res = http.post(
      `${TICKET}/api/reservations`,
      JSON.stringify({ eventId: data.eventId, seatIds: [seat.id] }),
      params(token, { 'x-admission-token': admission, 'idempotency-key': `${fan}-${attempt}` }),
    );
    if (res.status === 409) {
      sleep(0.2 + Math.random() * 0.5);
      continue;
    }
    if (!check(res, { 'reservation accepted': (r) => r.status === 202 })) return;
    let status = res.json('status');
    while (status === 'PENDING' && Date.now() - reservedAt < 60000) {
      sleep(0.5);
      status = http
        .get(`${TICKET}/api/reservations/${res.json('id')}`, {
          headers: { authorization: `Bearer ${token}` },
          tags: { name: 'reservation' },
        })
        .json('status');
    }
    check(status, { 'saga settled': (s) => s === 'CONFIRMED' || s === 'CANCELLED' || s === 'EXPIRED' });
    if (status === 'CONFIRMED') reserveToConfirmed.add(Date.now() - reservedAt);
    outcomes.add(1, { outcome: String(status).toLowerCase() });
    return;
  }
  outcomes.add(1, { outcome: 'gave-up-after-409s' });
}
