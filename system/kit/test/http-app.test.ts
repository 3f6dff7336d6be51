import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createHttpApp,
  createLogger,
  createServiceMetrics,
  createTracing,
  listen,
  ProblemError,
  type RunningServer,
  tracingConfigSchema,
} from '../src/index.ts';
import { httpClient, testAppOptions } from '../src/testing/index.ts';

describe('the HTTP kit', () => {
  let server: RunningServer;
  let healthy = true;
  let draining = false;
  before(async () => {
    const app = createHttpApp({
      service: 'kit-test',
      logger: createLogger('kit-test', 'silent'),
      metrics: createServiceMetrics('kit-test'),
      tracer: createTracing('kit-test', tracingConfigSchema.parse({})).tracer,
      bodyLimit: '1kb',
      trustProxy: 1,
      isDraining: () => draining,
      openapi: { openapi: '3.1.0', info: { title: 'kit-test', version: '1' }, paths: {} },
      readinessChecks: [
        {
          name: 'dependency',
          check: async () => {
            if (!healthy) throw new Error('dependency is down');
          },
        },
      ],
      routes: (app) => {
        app.get('/things/:id', (req, res) => {
          res.json({ id: req.params.id });
        });
        app.get('/client-address', (req, res) => {
          res.json({ ip: req.ip });
        });
        app.get('/teapot', () => {
          throw new ProblemError(418, 'teapot', "I'm a teapot", 'short and stout');
        });
        app.get('/boom', () => {
          throw new Error('database password is hunter2');
        });
        app.get('/slow', async (_req, res) => {
          await sleep(300);
          res.json({ done: true });
        });
      },
    });
    server = await listen(app, '127.0.0.1', 0);
  });
  after(async () => server.close(1000));

  it('answers a domain problem as RFC 9457 problem+json with its status', async () => {
    const res = await httpClient(server.url).get('/teapot');
    assert.equal(res.status, 418);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.deepEqual(res.body, {
      type: 'https://reservex.dev/problems/teapot',
      title: "I'm a teapot",
      status: 418,
      detail: 'short and stout',
      instance: '/teapot',
    });
  });

  it('answers an unexpected error with a 500 problem that reveals nothing but the request id', async () => {
    const res = await httpClient(server.url).get('/boom', { headers: { 'x-request-id': 'req-42' } });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('x-request-id'), 'req-42');
    assert.equal(JSON.stringify(res.body).includes('hunter2'), false);
    assert.match(res.body.detail, /req-42/);
  });

  it('answers an unknown route with a 404 problem', async () => {
    const res = await httpClient(server.url).get('/nowhere');
    assert.equal(res.status, 404);
    assert.equal(res.body.type, 'https://reservex.dev/problems/not-found');
  });

  it('reports readiness from the dependencies, 503 when one is down', async () => {
    const api = httpClient(server.url);
    const up = await api.get('/actuator/health');
    assert.equal(up.status, 200);
    assert.equal(up.body.status, 'UP');
    healthy = false;
    try {
      const down = await api.get('/actuator/health');
      assert.equal(down.status, 503);
      assert.equal(down.body.components.dependency.status, 'DOWN');
      assert.equal((await api.get('/actuator/health/liveness')).status, 200);
    } finally {
      healthy = true;
    }
  });

  it('says it is not ready while draining, so a load balancer stops sending before the server closes', async () => {
    const api = httpClient(server.url);
    draining = true;
    try {
      const res = await api.get('/actuator/health');
      assert.equal(res.status, 503);
      assert.equal(res.body.draining, true);
      assert.equal((await api.get('/actuator/health/liveness')).status, 200);
    } finally {
      draining = false;
    }
  });

  it('behind one trusted proxy, the client address is the one that proxy saw, whatever the client wrote', async () => {
    const res = await httpClient(server.url).get('/client-address', {
      headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.7' },
    });
    assert.equal(res.body.ip, '203.0.113.7');
  });

  it('counts requests per route template, not per raw URL', async () => {
    const api = httpClient(server.url);
    await api.get('/things/1');
    await api.get('/things/2');
    const metrics = await api.get('/metrics');
    const count = (metrics.body as string)
      .split('\n')
      .find(
        (l) =>
          l.startsWith('http_server_request_duration_seconds_count{') && l.includes('route="/things/:id"'),
      );
    assert.match(count ?? '', /method="GET"/);
    assert.match(count ?? '', /status_code="200"/);
    assert.match(count ?? '', / 2$/);
    assert.doesNotMatch(metrics.body, /route="\/things\/1"/);
    assert.match(metrics.body, /nodejs_eventloop_lag_seconds/);
  });

  it('answers a known path asked with another method 405, naming the methods it serves in Allow', async () => {
    const res = await httpClient(server.url).delete('/things/7');
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
    assert.equal(res.body.type, 'https://reservex.dev/problems/method-not-allowed');
    assert.equal((await httpClient(server.url).delete('/no-such-thing')).status, 404);
  });

  it('refuses a body that is not JSON with 415 instead of reading it as no body', async () => {
    const res = await httpClient(server.url).post('/things/7', {
      raw: 'id=7',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(res.status, 415);
    assert.equal(res.body.type, 'https://reservex.dev/problems/unsupported-media-type');
  });

  it('serves a rendered API reference at /docs, with its assets from the service itself', async () => {
    const page = await httpClient(server.url).get('/docs');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const scripts = [...String(page.body).matchAll(/src="([^"]+)"/g)].map((m) => m[1] ?? '');
    assert.ok(scripts.length > 0);
    for (const src of scripts) {
      assert.ok(src.startsWith('/docs/assets/'), `${src} must be served locally`);
      assert.equal((await httpClient(server.url).get(src)).status, 200, src);
    }
  });

  it('serves its OpenAPI document', async () => {
    const res = await httpClient(server.url).get('/openapi.json');
    assert.equal(res.body.openapi, '3.1.0');
  });

  it('lets an in-flight request finish when it shuts down, and then refuses new connections', async () => {
    const app = createHttpApp({
      ...testAppOptions('drain-test'),
      routes: (a) =>
        a.get('/slow', async (_req, res) => {
          await sleep(300);
          res.json({ done: true });
        }),
    });
    const draining = await listen(app, '127.0.0.1', 0);
    const inFlight = httpClient(draining.url).get('/slow');
    await sleep(50);
    await draining.close(5000);
    assert.deepEqual((await inFlight).body, { done: true });
    await assert.rejects(fetch(`${draining.url}/slow`));
  });
});
