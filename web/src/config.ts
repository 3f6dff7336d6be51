/** Where the services are, as the web server says (web/server.ts serves /config.json from its environment). */
export interface WebConfig {
  account: string;
  ticket: string;
  payment: string;
  /**
   * Where waiting fans read the queue's shared status: the edge cache in front of ticket-service (a CDN in
   * production), or ticket-service itself where there is none.
   */
  edge: string;
  /** Prometheus's HTTP API, proxied through the web server (same origin). */
  prometheus: string;
}

let loaded: WebConfig | undefined;

export async function loadConfig(): Promise<WebConfig> {
  if (loaded !== undefined) return loaded;
  const res = await fetch('/config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`/config.json answered ${res.status}`);
  loaded = (await res.json()) as WebConfig;
  return loaded;
}

export function config(): WebConfig {
  if (loaded === undefined) throw new Error('config not loaded yet');
  return loaded;
}
