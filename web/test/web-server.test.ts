import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningWebServer, startWebServer } from '../server/web-server.ts';

describe('web: the page server', () => {
  let server: RunningWebServer;
  let root: string;
  const services = {
    account: 'http://127.0.0.1:8081',
    ticket: 'http://127.0.0.1:8080',
    payment: 'http://127.0.0.1:8082',
  };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'reservex-web-'));
    const dist = join(root, 'dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>ReserveX</title>');
    writeFileSync(join(dist, 'assets', 'app-1234.js'), 'console.log(1)');
    writeFileSync(join(root, 'secret.txt'), 'outside the build');
    // A sibling whose name starts like the build's: a prefix check alone would let it out.
    mkdirSync(join(root, 'dist-private'));
    writeFileSync(join(root, 'dist-private', 'key.txt'), 'outside the build');
    // Prometheus that does not answer: the proxy must say so rather than hang.
    server = await startWebServer({
      host: '127.0.0.1',
      port: 0,
      services,
      prometheus: 'http://127.0.0.1:9',
      distDir: dist,
    });
  });
  after(async () => server.close());

  const get = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), init);

  it('serves the page with a strict Content-Security-Policy, and the services it may call', async () => {
    const page = await get('/');
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(
      csp,
      /connect-src 'self' http:\/\/127\.0\.0\.1:8081 http:\/\/127\.0\.0\.1:8080 http:\/\/127\.0\.0\.1:8082/,
    );
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    const config = await (await get('/config.json')).json();
    // No edge named: waiting fans read the queue's shared status from ticket-service itself.
    assert.deepEqual(config, { ...services, edge: services.ticket, prometheus: '/prometheus' });
    const asset = await get('/assets/app-1234.js');
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
  });

  it('tells the page where the edge cache is, and lets the page call it', async () => {
    const withEdge = await startWebServer({
      host: '127.0.0.1',
      port: 0,
      services: { ...services, edge: 'http://127.0.0.1:8090' },
      prometheus: 'http://127.0.0.1:9',
      distDir: join(root, 'dist'),
    });
    try {
      const config = await (await fetch(new URL('/config.json', withEdge.url))).json();
      assert.equal(config.edge, 'http://127.0.0.1:8090');
      assert.equal(config.ticket, services.ticket);
      const csp = (await fetch(withEdge.url)).headers.get('content-security-policy') ?? '';
      assert.match(csp, /connect-src 'self' [^;]*http:\/\/127\.0\.0\.1:8090/);
    } finally {
      await withEdge.close();
    }
  });

  it('serves nothing outside its build, however the path is spelled', async () => {
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/..%2fdist-private/key.txt',
      '/%E0%A4%A',
      '/nope.js',
    ]) {
      const res = await get(path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(await res.text(), /outside the build/, path);
    }
  });

  it('passes on Prometheus queries only, and says when Prometheus is away', async () => {
    assert.equal((await get('/prometheus/api/v1/admin/tsdb/delete_series')).status, 404);
    const away = await get('/prometheus/api/v1/query?query=up');
    assert.equal(away.status, 503);
    assert.match(away.headers.get('content-type') ?? '', /problem\+json/);
    assert.equal((await get('/', { method: 'POST' })).status, 405);
  });
});
