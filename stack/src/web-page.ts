import { ensureWebBuild, type RunningWebServer, startWebServer } from '@reservex/web/server';
import type { Targets } from './targets.ts';

/** The origins the page is served from: the services' CORS allow-list must name them. */
export function webOrigins(t: Targets): string {
  const url = new URL(t.web);
  const origins = [url.origin];
  if (url.hostname === '127.0.0.1') origins.push(`${url.protocol}//localhost:${url.port}`);
  return origins.join(',');
}

async function isOurPage(url: string): Promise<boolean> {
  try {
    const res = await fetch(new URL('/config.json', url), { signal: AbortSignal.timeout(1500) });
    const body = (await res.json()) as { ticket?: string };
    return res.ok && typeof body.ticket === 'string';
  } catch {
    return false;
  }
}

/**
 * The fan page and control room for this stack, on WEB_URL. One already serving there (npm run dev in another
 * terminal) is used as it is. A page that cannot start costs the run nothing but the page: it is logged.
 */
export async function startWebPage(
  t: Targets,
  log: (m: string) => void,
): Promise<{ url: string; server?: RunningWebServer } | undefined> {
  const url = new URL(t.web);
  if (await isOurPage(t.web)) return { url: url.href };
  try {
    await ensureWebBuild(log);
    const server = await startWebServer({
      host: url.hostname,
      port: Number(url.port || 80),
      services: { account: t.account, ticket: t.ticket, payment: t.payment, edge: t.edge },
      prometheus: t.prometheus,
    });
    return { url: server.url, server };
  } catch (error) {
    log(`the web page did not start (${(error as Error).message}); the run goes on without it`);
    return undefined;
  }
}
