import assert from 'node:assert/strict';
import { corsOriginsSchema, createHttpApp, listen, type RunningServer } from '../src/index.ts';
import { testAppOptions } from '../src/testing/index.ts';

const PAGE = 'http://127.0.0.1:5173';

describe('CORS for the web page', () => {
  describe('CORS_ORIGINS', () => {
    it('takes a list of origins, the page’s own by default', () => {
      assert.deepEqual(corsOriginsSchema.parse(undefined), [PAGE, 'http://localhost:5173']);
      assert.deepEqual(corsOriginsSchema.parse('https://tickets.example.com, https://ops.example.com/'), [
        'https://tickets.example.com',
        'https://ops.example.com',
      ]);
      assert.deepEqual(corsOriginsSchema.parse(''), []);
    });

    it('refuses a wildcard, and anything that is not an origin', () => {
      for (const bad of ['*', `${PAGE},*`, 'tickets.example.com', 'https://tickets.example.com/path']) {
        assert.equal(corsOriginsSchema.safeParse(bad).success, false, bad);
      }
      const wildcard = corsOriginsSchema.safeParse('*');
      assert.match(wildcard.error?.issues[0]?.message ?? '', /wildcard/);
    });
  });

  describe('the middleware', () => {
    let server: RunningServer;
    before(async () => {
      const app = createHttpApp({
        ...testAppOptions('cors-test'),
        corsOrigins: [PAGE],
        routes: (a) => {
          a.get('/api/things', (_req, res) => {
            res.setHeader('Retry-After', '2');
            res.json([]);
          });
          a.post('/api/things', (_req, res) => {
            res.status(201).json({});
          });
        },
      });
      server = await listen(app, '127.0.0.1', 0);
    });
    after(async () => server.close(1000));

    const preflight = (origin: string) =>
      fetch(`${server.url}/api/things`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type, idempotency-key',
        },
      });

    it('answers a preflight from an allowed origin with what the page may send, and no credentials', async () => {
      const res = await preflight(PAGE);
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), PAGE);
      assert.match(res.headers.get('access-control-allow-headers') ?? '', /authorization/);
      assert.match(res.headers.get('access-control-allow-headers') ?? '', /idempotency-key/);
      assert.match(res.headers.get('access-control-allow-headers') ?? '', /x-queue-ticket/);
      assert.match(res.headers.get('access-control-allow-methods') ?? '', /PATCH/);
      assert.equal(res.headers.get('access-control-allow-credentials'), null);
      assert.match(res.headers.get('vary') ?? '', /Origin/);
    });

    it('lets the page read Retry-After on an actual request', async () => {
      const res = await fetch(`${server.url}/api/things`, { headers: { origin: PAGE } });
      assert.equal(res.headers.get('access-control-allow-origin'), PAGE);
      assert.match(res.headers.get('access-control-expose-headers') ?? '', /Retry-After/);
    });

    it('refuses a preflight from any other origin as problem+json, and grants it nothing', async () => {
      const res = await preflight('https://evil.example');
      assert.equal(res.status, 403);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      const plain = await fetch(`${server.url}/api/things`, { headers: { origin: 'https://evil.example' } });
      assert.equal(plain.headers.get('access-control-allow-origin'), null);
    });

    it('leaves requests without an Origin (servers, curl) as they were', async () => {
      const res = await fetch(`${server.url}/api/things`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
    });

    it('says the answer varies by Origin even to a request without one, so a shared cache never hands it to a page', async () => {
      // The edge cached curl's answer (no Allow-Origin) and served it to the page, whose browser refused it.
      const res = await fetch(`${server.url}/api/things`);
      assert.match(res.headers.get('vary') ?? '', /Origin/);
    });
  });
});
