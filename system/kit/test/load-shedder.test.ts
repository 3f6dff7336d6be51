import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createHttpApp, createServiceMetrics, listen, type RunningServer } from '../src/index.ts';
import { httpClient, testAppOptions, testInfra, waitFor } from '../src/testing/index.ts';

describe('shedding at the edge', () => {
  let server: RunningServer;
  let pool: pg.Pool;
  const releases: Array<() => void> = [];
  const metrics = createServiceMetrics('shed-test');
  // What the event loop's pressure says, and the dice, as each test sets them.
  let yieldShare = 0;
  let dice = 0.5;

  before(async () => {
    // A real pool of one connection to PostgreSQL: its queue of waiters is the signal.
    pool = new pg.Pool({ connectionString: testInfra().pgAdminUrl, max: 1 });
    const app = createHttpApp({
      ...testAppOptions('shed-test'),
      metrics,
      shedding: {
        pool,
        maxInFlight: 2,
        maxQueueMs: 100,
        retryAfterSeconds: 3,
        exempt: (path) => path.startsWith('/queue'),
        critical: (method) => method === 'POST',
        yields: {
          matches: (method, path) => method === 'POST' && path === '/queue',
          share: () => yieldShare,
          retryAfterSeconds: 4,
          random: () => dice,
        },
      },
      routes: (app) => {
        app.get('/slow', async (_req, res) => {
          await new Promise<void>((resolve) => releases.push(resolve));
          res.json({ ok: true });
        });
        app.get('/db', async (_req, res) => {
          const { rows } = await pool.query('SELECT 1 AS one');
          res.json(rows[0]);
        });
        app.post('/book', async (_req, res) => {
          const { rows } = await pool.query('SELECT 1 AS one');
          res.status(201).json(rows[0]);
        });
        app.post('/queue', (_req, res) => {
          res.status(201).json({ number: 1 });
        });
        app.get('/queue/me', (_req, res) => {
          res.json({ waiting: true });
        });
      },
    });
    server = await listen(app, '127.0.0.1', 0);
  });

  after(async () => {
    await server.close(1000);
    await pool.end();
  });

  it('refuses at once with 503 problem+json and Retry-After while too many requests are in flight', async () => {
    const http = httpClient(server.url);
    const first = http.get('/slow');
    const second = http.get('/slow');
    await sleep(100);
    const refused = await http.get('/db');
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '3');
    assert.match(refused.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(refused.body.type, 'https://reservex.dev/problems/overloaded');
    // The waiting room's routes are never shed.
    assert.equal((await http.get('/queue/me')).status, 200);
    for (const release of releases.splice(0)) release();
    assert.equal((await first).status, 200);
    assert.equal((await second).status, 200);
    // Room again.
    assert.equal((await http.get('/db')).status, 200);
  });

  it('refuses while a queue for database connections stands longer than the bound, and serves again once it drains', async () => {
    const http = httpClient(server.url);
    const held = await pool.connect();
    const waiters = [pool.query('SELECT 1'), pool.query('SELECT 1'), pool.query('SELECT 1')];
    // A queue that has just formed is a burst: not yet refused.
    const early = http.get('/db');
    await sleep(250);
    const refused = await http.get('/db');
    assert.equal(refused.status, 503);
    assert.equal(refused.body.type, 'https://reservex.dev/problems/overloaded');
    // A booking is not refused for the queue: it waits its turn.
    const booking = http.post('/book', {});
    held.release();
    assert.equal((await booking).status, 201);
    await Promise.all(waiters);
    assert.equal((await early).status, 200);
    assert.equal((await http.get('/db')).status, 200);
    const shed = await metrics.registry.getSingleMetricAsString('http_requests_shed_total');
    assert.match(shed, /reason="in-flight",service="shed-test"} 1/);
    assert.match(shed, /reason="database-queue",service="shed-test"} 1/);
  });

  it('a request that asks for an event stream is counted and shed like any other; only an exempt route is not', async () => {
    const http = httpClient(server.url);
    const stream = { headers: { accept: 'text/event-stream' } };
    // Two requests in flight, one of them asking for a stream: together they fill the service.
    const first = http.get('/slow', stream);
    const second = http.get('/slow');
    await waitFor(async () => releases.length === 2, { what: 'both slow requests in flight' });
    assert.equal((await http.get('/db')).status, 503);
    // The header does not open a way round the shedder.
    const refused = await http.get('/db', stream);
    assert.equal(refused.status, 503);
    assert.equal(refused.body.type, 'https://reservex.dev/problems/overloaded');
    // The route the service exempts (the waiting room's) is served whatever it accepts.
    assert.equal((await http.get('/queue/me', stream)).status, 200);
    for (const release of releases.splice(0)) release();
    assert.equal((await first).status, 200);
    assert.equal((await second).status, 200);
    assert.equal((await http.get('/db', stream)).status, 200);
  });

  it('a yielding route gives way in the share the pressure says, told to come back later the larger the share', async () => {
    const http = httpClient(server.url);
    yieldShare = 0;
    dice = 0;
    assert.equal((await http.post('/queue', {})).status, 201, 'no pressure, nothing refused');
    yieldShare = 0.5;
    dice = 0.3;
    const refused = await http.post('/queue', {});
    assert.equal(refused.status, 503);
    assert.equal(refused.body.type, 'https://reservex.dev/problems/overloaded');
    // 4 s stretched by 1 / (1 − 0.5), times the jitter 0.5 + 0.3.
    assert.equal(refused.headers.get('retry-after'), '7');
    dice = 0.7;
    assert.equal((await http.post('/queue', {})).status, 201, 'the dice above the share: served');
    yieldShare = 0.9;
    dice = 0;
    assert.equal((await http.get('/queue/me')).status, 200, 'a route that does not yield is served');
    assert.equal((await http.post('/book', {})).status, 201, 'nor is a booking refused');
    yieldShare = 0;
    const shed = await metrics.registry.getSingleMetricAsString('http_requests_shed_total');
    assert.match(shed, /reason="event-loop",service="shed-test"} 1/);
  });
});
