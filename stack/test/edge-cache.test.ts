import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@reservex/kit/testing';
import { endWithThisProcess } from '../src/child-reaper.ts';
import {
  COMPOSE_EDGE_CONFIG,
  COMPOSE_EDGE_OPTIONS,
  type EdgeConfigOptions,
  edgeConfig,
} from '../src/infra/edge-config.ts';
import { edgeHealth } from '../src/infra/health.ts';
import { localEdgeOptions, nginxArgs, nginxBinary, writeEdgeConfig } from '../src/infra/local-edge.ts';
import { ensurePackage } from '../src/infra/os-packages.ts';
import { InfraError } from '../src/infra/processes.ts';
import { readInfraSettings } from '../src/infra/settings.ts';
import { freePort, type StandInOrigin, standInOrigin } from './stand-in-origin.ts';

/** A second nginx, rendered by edgeConfig like the stack's, on its own port and directory, in front of `originPort`. */
async function startTestEdge(
  originPort: number,
): Promise<{ url: string; options: EdgeConfigOptions; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'reservex-edge-'));
  const port = await freePort();
  const options: EdgeConfigOptions = {
    listen: `127.0.0.1:${port}`,
    origin: `127.0.0.1:${originPort}`,
    cacheDir: join(dir, 'cache'),
    workDir: join(dir, 'work'),
    user: process.getuid?.() === 0 ? 'root' : undefined,
  };
  const config = writeEdgeConfig(options);
  let output = '';
  const child: ChildProcess = endWithThisProcess(
    spawn(nginxBinary(), nginxArgs(options, config), { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited: ${output}`);
      return (await edgeHealth(port)).status === 200;
    },
    { what: `the test edge on port ${port}` },
  );
  return {
    url: `http://127.0.0.1:${port}`,
    options,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return {
    status: response.status,
    cache: response.headers.get('x-cache-status'),
    body: await response.text(),
  };
}

const CACHEABLE = { 'Cache-Control': 'public, max-age=60' };

describe('edge cache (nginx in front of ticket-service)', () => {
  let origin: StandInOrigin;
  let edge: Awaited<ReturnType<typeof startTestEdge>>;

  before(async () => {
    ensurePackage(['/usr/sbin/nginx', 'nginx'], ['nginx-light'], () => {});
    origin = await standInOrigin();
    edge = await startTestEdge(origin.port);
  });

  after(async () => {
    await edge?.stop();
    await origin?.close();
  });

  it('serves a cacheable answer to the second fan from the cache: the origin answers once', async () => {
    const path = origin.serve({ headers: CACHEABLE });
    const first = await get(edge.url + path);
    const second = await get(edge.url + path);
    assert.equal(first.cache, 'MISS');
    assert.equal(second.cache, 'HIT');
    assert.equal(second.body, first.body);
    assert.equal(origin.seen(path).length, 1);
  });

  it('sends 50 fans asking at once for an answer it does not hold yet to the origin once (proxy_cache_lock)', async () => {
    const path = origin.serve({ headers: CACHEABLE, delayMs: 300 });
    const answers = await Promise.all(Array.from({ length: 50 }, () => get(edge.url + path)));
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
    assert.equal(new Set(answers.map((a) => a.body)).size, 1);
    assert.equal(origin.seen(path).length, 1);
  });

  for (const [what, headers] of [
    ['no-store', { 'Cache-Control': 'no-store' }],
    ['private', { 'Cache-Control': 'private, max-age=60' }],
    ['Set-Cookie', { ...CACHEABLE, 'Set-Cookie': 'fan=1; HttpOnly' }],
  ] as const) {
    it(`never caches an answer with ${what}: every request reaches the origin`, async () => {
      const path = origin.serve({ headers });
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await get(edge.url + path));
      assert.equal(origin.seen(path).length, 3);
      assert.deepEqual(
        answers.map((a) => a.body),
        [1, 2, 3].map((n) => JSON.stringify({ path, answer: n })),
      );
    });
  }

  it('never answers a request that carries Authorization from the shared cache', async () => {
    const path = origin.serve({ headers: CACHEABLE });
    await get(edge.url + path);
    const personal = await get(edge.url + path, { Authorization: 'Bearer fan-2' });
    assert.equal(personal.cache, 'BYPASS');
    assert.equal(personal.body, JSON.stringify({ path, answer: 2 }));
    assert.equal(origin.seen(path)[1]?.headers.authorization, 'Bearer fan-2');
  });

  it('never stores the answer to a request that carries Authorization for other fans', async () => {
    const path = origin.serve({ headers: CACHEABLE });
    await get(edge.url + path, { Authorization: 'Bearer fan-1' });
    const anonymous = await get(edge.url + path);
    assert.equal(anonymous.cache, 'MISS');
    assert.equal(anonymous.body, JSON.stringify({ path, answer: 2 }));
    assert.equal(origin.seen(path).length, 2);
  });

  it('after max-age asks the origin again with If-None-Match, and keeps its entry when the origin answers 304', async () => {
    const etag = '"counter-41"';
    const path = origin.serve({
      headers: { 'Cache-Control': 'public, max-age=1, stale-while-revalidate=1', ETag: etag },
    });
    const first = await get(edge.url + path);
    const statuses = new Set<string | null>();
    await waitFor(
      async () => {
        const answer = await get(edge.url + path);
        statuses.add(answer.cache);
        assert.equal(answer.body, first.body);
        return origin.seen(path).some((r) => r.headers['if-none-match'] === etag && r.status === 304);
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'a conditional request answered 304' },
    );
    const after = await get(edge.url + path);
    assert.ok(after.cache === 'HIT' || after.cache === 'REVALIDATED', `X-Cache-Status ${after.cache}`);
    assert.equal(after.body, first.body);
    assert.equal(origin.seen(path).filter((r) => r.status === 200).length, 1);
    // Fans never waited for the revalidation: those who came during it got the entry they had.
    for (const status of statuses)
      assert.ok(['HIT', 'STALE', 'UPDATING', 'REVALIDATED'].includes(String(status)), String(status));
  });

  it('passes a waiting fan’s server-sent events through as they are written, not when the stream ends', async () => {
    const path = origin.serve({ headers: { 'Cache-Control': 'no-store' }, stream: true });
    const controller = new AbortController();
    const response = await fetch(edge.url + path, {
      headers: { Authorization: 'Bearer fan-1' },
      signal: controller.signal,
    });
    try {
      const reader = response.body?.getReader();
      assert.ok(reader);
      const first = await reader.read();
      assert.match(new TextDecoder().decode(first.value), /event: position/);
    } finally {
      controller.abort();
    }
  });

  it('answers /edge-health itself, even with no origin behind it, where every other path is a 502', async () => {
    const nothing = await startTestEdge(await freePort());
    try {
      const health = await fetch(`${nothing.url}/edge-health`);
      assert.equal(health.status, 200);
      assert.equal(await health.text(), 'ok\n');
      assert.match(health.headers.get('x-edge-version') ?? '', /^\d+\.\d+\.\d+$/);
      assert.equal((await get(`${nothing.url}/api/events`)).status, 502);
    } finally {
      await nothing.stop();
    }
  });

  it('renders a configuration nginx -t accepts', () => {
    const result = spawnSync(
      nginxBinary(),
      ['-t', ...nginxArgs(edge.options, join(edge.options.workDir, 'nginx.conf'))],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /test is successful/);
  });

  it('keeps what the local edge writes in the state directory, listening on EDGE_PORT in front of TICKET_URL', () => {
    const settings = readInfraSettings(
      {
        ...process.env,
        RESERVEX_INFRA_DIR: '/srv/state',
        EDGE_PORT: '18090',
        TICKET_URL: 'http://127.0.0.1:18080',
      },
      true,
    );
    const options = localEdgeOptions(settings);
    assert.equal(options.listen, '127.0.0.1:18090');
    assert.equal(options.origin, '127.0.0.1:18080');
    for (const dir of [options.cacheDir, options.workDir]) assert.ok(dir.startsWith('/srv/state/'), dir);
    const paths = [...edgeConfig(options).matchAll(/(?:_path|^pid) (\/\S+)/gm)];
    assert.equal(paths.length, 7);
    for (const path of paths) assert.ok(path[1]?.startsWith('/srv/state/'), path[0]);
  });

  it('refuses to start in front of a TICKET_URL it cannot forward to, without failing whatever else reads the settings', () => {
    const remote = readInfraSettings({ ...process.env, TICKET_URL: 'https://tickets.example.com' }, true);
    assert.throws(() => localEdgeOptions(remote), InfraError);
  });

  it('gives docker-compose the same configuration, rendered for ports 8090 and 8080 (infra/edge/nginx.conf)', () => {
    assert.equal(
      readFileSync(COMPOSE_EDGE_CONFIG, 'utf8'),
      edgeConfig(COMPOSE_EDGE_OPTIONS),
      'infra/edge/nginx.conf is stale: regenerate it with node stack/src/infra/edge-config.ts',
    );
  });
});
