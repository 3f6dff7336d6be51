// Serves the built page (web/dist), the services' addresses it needs (/config.json), and Prometheus's query API
// under /prometheus on the same origin. Plain node:http: it serves a handful of static files to a few browsers.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

export const WEB_ROOT = resolve(import.meta.dirname, '..');
const DIST = join(WEB_ROOT, 'dist');

export interface WebServerOptions {
  host: string;
  port: number;
  /**
   * Where the page's browser reaches each service (CORS lets it: kit/cors.ts). `edge` is the cache in front of
   * ticket-service (a CDN in production), where waiting fans read the queue's shared status; without one they read
   * it from ticket-service itself.
   */
  services: { account: string; ticket: string; payment: string; edge?: string };
  prometheus: string;
  distDir?: string;
}

export interface RunningWebServer {
  url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Prometheus's read-only query endpoints: the page draws charts, and can change nothing there. */
const PROMETHEUS_PATHS = new Set(['/api/v1/query', '/api/v1/query_range', '/api/v1/label/__name__/values']);

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds the page with Vite when dist/ is missing or older than its sources (about a second). */
export async function ensureWebBuild(log: (m: string) => void = () => {}): Promise<void> {
  const built = join(DIST, 'index.html');
  const sources = Math.max(
    newestMtime(join(WEB_ROOT, 'src')),
    statSync(join(WEB_ROOT, 'index.html')).mtimeMs,
    statSync(resolve(WEB_ROOT, '..', 'dashboards', 'flash-sale-overview.json')).mtimeMs,
    // The waiting room's rules the page computes a fan's place with (@reservex/ticket-service/queue-status).
    newestMtime(resolve(WEB_ROOT, '..', 'system', 'ticket-service', 'src', 'domain')),
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  log('building the web page (vite build)');
  const { build } = await import('vite');
  await build({ configFile: join(WEB_ROOT, 'vite.config.ts'), logLevel: 'warn' });
}

/** What the page is told of where the services are (web/src/config.ts reads it). */
function pageConfig(options: WebServerOptions) {
  const { edge, ...services } = options.services;
  return { ...services, edge: edge ?? services.ticket, prometheus: '/prometheus' };
}

function contentSecurityPolicy(options: WebServerOptions): string {
  const origins = [...new Set(Object.values(options.services).map((u) => new URL(u).origin))];
  return [
    "default-src 'self'",
    `connect-src 'self' ${origins.join(' ')}`,
    "img-src 'self' data:",
    "style-src 'self'",
    "script-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

export async function startWebServer(options: WebServerOptions): Promise<RunningWebServer> {
  const dist = options.distDir ?? DIST;
  const csp = contentSecurityPolicy(options);
  const config = JSON.stringify(pageConfig(options));
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://page');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'about:blank', title: 'Method Not Allowed', status: 405 }));
      return;
    }
    if (url.pathname === '/config.json') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(config);
      return;
    }
    if (url.pathname.startsWith('/prometheus/')) {
      const path = url.pathname.slice('/prometheus'.length);
      if (!PROMETHEUS_PATHS.has(path)) {
        res.writeHead(404, { 'Content-Type': 'application/problem+json' });
        res.end(
          JSON.stringify({
            type: 'about:blank',
            title: 'Not Found',
            status: 404,
            detail: 'not a query path',
          }),
        );
        return;
      }
      fetch(`${options.prometheus}${path}${url.search}`, { signal: AbortSignal.timeout(10_000) })
        .then(async (answer) => {
          res.writeHead(answer.status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
          res.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => {
          res.writeHead(503, { 'Content-Type': 'application/problem+json', 'Retry-After': '5' });
          res.end(
            JSON.stringify({
              type: 'about:blank',
              title: 'Service Unavailable',
              status: 503,
              detail: `Prometheus does not answer at ${options.prometheus}`,
            }),
          );
        });
      return;
    }
    // Hash routes: every page is index.html; anything else is a file of the build, inside dist/ only.
    let path = '';
    try {
      path = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname);
    } catch {
      // Malformed percent-encoding: no such file.
    }
    const file = normalize(join(dist, path));
    if (path === '' || !file.startsWith(dist + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Not found');
      return;
    }
    const isHtml = extname(file) === '.html';
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      // Built assets carry a content hash in their names; the page itself must always be fresh.
      'Cache-Control': isHtml ? 'no-cache' : 'public, max-age=31536000, immutable',
      ...(isHtml ? { 'Content-Security-Policy': csp } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolvePromise());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    url: `http://${options.host}:${port}/`,
    close: () =>
      new Promise((resolvePromise) => {
        server.closeAllConnections();
        server.close(() => resolvePromise());
      }),
  };
}
