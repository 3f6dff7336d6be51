import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** What one edge cache needs to know: where it listens, what it fronts, and where it may write. */
export interface EdgeConfigOptions {
  /** Where fans reach the edge, `host:port`. */
  listen: string;
  /** ticket-service's public address, `host:port`: one process, or HAProxy in front of its replicas. */
  origin: string;
  /** The cached answers; `infra:reset` deletes it. */
  cacheDir: string;
  /** Request and response bodies too large for memory, and nginx's own pid file. */
  workDir: string;
  /**
   * The account nginx's workers run as when it starts as root. Without one they would run as `nobody`, who cannot
   * enter a state directory under a private home or a test's temporary directory.
   */
  user?: string;
}

/** The docker-compose edge: the same rendering for the default ports, with container paths (infra/edge/nginx.conf). */
export const COMPOSE_EDGE_OPTIONS: EdgeConfigOptions = {
  listen: '127.0.0.1:8090',
  origin: '127.0.0.1:8080',
  cacheDir: '/var/cache/nginx/reservex-edge',
  // Exists in the nginx image, writable by its root master, which creates the cache and temp directories in it.
  workDir: '/var/cache/nginx',
  user: 'nginx',
};

export const COMPOSE_EDGE_CONFIG = resolve(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'infra',
  'edge',
  'nginx.conf',
);

/**
 * nginx as a CDN's stand-in in front of ticket-service. It stores only what the origin says is cacheable
 * (Cache-Control max-age or s-maxage, or Expires), so an answer with no-store, no-cache, private or Set-Cookie, and
 * anything not GET or HEAD, passes straight through. A request that carries Authorization is a fan's own: it is
 * neither answered from nor stored in the shared cache. For the rest the origin sees about one request per key per
 * max-age however many fans ask: a burst of misses waits for one origin request (the lock), an expired entry is
 * served while one background request refreshes it, and that refresh is conditional, so an unchanged answer costs a
 * 304. Every answer says what the cache did in X-Cache-Status, from which a client computes the hit ratio.
 */
export function edgeConfig(options: EdgeConfigOptions): string {
  const temp = (name: string) => join(options.workDir, `${name}-temp`);
  const lines = [
    '# Rendered by edgeConfig (stack/src/infra/edge-config.ts): change it there, not here.',
    ...(options.user === undefined ? [] : [`user ${options.user};`]),
    // Two cores are shared with the services, the databases and the load generator: one worker is plenty for a cache
    // that answers from memory and page cache.
    'worker_processes 1;',
    // Room for every connection below (a proxied one takes two descriptors) within the 20,000 this machine allows a
    // process: asking for more than the hard limit only logs an alert at each start.
    'worker_rlimit_nofile 20000;',
    `pid ${join(options.workDir, 'nginx.pid')};`,
    'error_log stderr warn;',
    '',
    'events {',
    '  worker_connections 16384;',
    '}',
    '',
    'http {',
    // A million fans polling would write gigabytes of access log; X-Cache-Status carries what a log would tell.
    '  access_log off;',
    '  server_tokens off;',
    `  client_body_temp_path ${temp('client-body')};`,
    `  proxy_temp_path ${temp('proxy')};`,
    `  fastcgi_temp_path ${temp('fastcgi')};`,
    `  uwsgi_temp_path ${temp('uwsgi')};`,
    `  scgi_temp_path ${temp('scgi')};`,
    `  proxy_cache_path ${options.cacheDir} levels=1:2 keys_zone=edge:10m max_size=256m inactive=10m use_temp_path=off;`,
    '',
    '  upstream ticket_service {',
    `    server ${options.origin};`,
    '    keepalive 64;',
    // Below Node's 5 s keep-alive, so the edge never sends a request on a connection the origin is closing.
    '    keepalive_timeout 4s;',
    '  }',
    '',
    // Any Authorization header at all, whatever its value, makes a request personal.
    '  map $http_authorization $edge_personal {',
    '    "" 0;',
    '    default 1;',
    '  }',
    '',
    '  server {',
    `    listen ${options.listen} backlog=4096;`,
    '',
    '    location = /edge-health {',
    '      default_type text/plain;',
    '      add_header X-Edge-Version $nginx_version;',
    '      return 200 "ok\\n";',
    '    }',
    '',
    '    location / {',
    '      proxy_pass http://ticket_service;',
    '      proxy_http_version 1.1;',
    '      proxy_set_header Connection "";',
    '      proxy_set_header Host $http_host;',
    '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '      proxy_set_header X-Forwarded-Proto $scheme;',
    // A waiting fan's server-sent events stay open for as long as the sale; ticket-service's heartbeats keep them busy.
    '      proxy_read_timeout 1h;',
    '',
    '      proxy_cache edge;',
    '      proxy_cache_bypass $edge_personal;',
    '      proxy_no_cache $edge_personal;',
    '      proxy_cache_lock on;',
    '      proxy_cache_lock_timeout 5s;',
    '      proxy_cache_revalidate on;',
    // An origin that is down or shedding load (HAProxy with no replica answers 503) leaves fans with the last answer.
    '      proxy_cache_use_stale updating error timeout http_502 http_503 http_504;',
    '      proxy_cache_background_update on;',
    '      add_header X-Cache-Status $upstream_cache_status always;',
    '    }',
    '  }',
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

// node stack/src/infra/edge-config.ts: writes infra/edge/nginx.conf, the file docker-compose's edge mounts.
if (import.meta.main) writeFileSync(COMPOSE_EDGE_CONFIG, edgeConfig(COMPOSE_EDGE_OPTIONS));
