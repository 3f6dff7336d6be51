import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { endWithThisProcess } from './child-reaper.ts';
import { goTool, TOXIPROXY } from './tools/go-tool.ts';

/** What a network fault does to the traffic between a service and a dependency. */
export type Toxic = 'latency' | 'timeout' | 'reset' | 'bandwidth' | 'partition';

export interface ProxySpec {
  name: string;
  listenPort: number;
  upstreamPort: number;
}

/**
 * A real Toxiproxy server (built from its Go module) between each service and its dependencies, and the calls
 * that turn its faults on and off. `partition` disables the proxy: open connections drop, new ones are refused.
 */
export class Toxiproxy {
  readonly #api: string;
  #child: ChildProcess | undefined;

  constructor(apiPort = 8474) {
    this.#api = `http://127.0.0.1:${apiPort}`;
  }

  async start(logFile: string, log: (m: string) => void): Promise<void> {
    const binary = goTool(TOXIPROXY, log);
    const out = openSync(logFile, 'a');
    const port = new URL(this.#api).port;
    this.#child = endWithThisProcess(
      spawn(binary, ['-host', '127.0.0.1', '-port', port], { stdio: ['ignore', out, out] }),
    );
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        if ((await fetch(`${this.#api}/version`)).ok) return;
      } catch {
        // not up yet
      }
      if (this.#child.exitCode !== null) throw new Error(`toxiproxy exited at start; read ${logFile}`);
      if (Date.now() > deadline) throw new Error(`toxiproxy did not answer in 15 s; read ${logFile}`);
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    if (this.#child === undefined || this.#child.exitCode !== null) return;
    this.#child.kill('SIGTERM');
    await new Promise((resolve) => this.#child!.once('exit', resolve));
  }

  async createProxies(proxies: ProxySpec[]): Promise<void> {
    await this.#call(
      'POST',
      '/populate',
      proxies.map((p) => ({
        name: p.name,
        listen: `127.0.0.1:${p.listenPort}`,
        upstream: `127.0.0.1:${p.upstreamPort}`,
        enabled: true,
      })),
    );
  }

  /** Turns the fault on for the proxy, in both directions; `end` turns it off again. */
  async begin(proxy: string, toxic: Toxic, attributes: Record<string, number> = {}): Promise<void> {
    if (toxic === 'partition') {
      await this.#call('POST', `/proxies/${proxy}`, { enabled: false });
      return;
    }
    const spec = {
      latency: {
        type: 'latency',
        attributes: { latency: attributes.latencyMs ?? 1000, jitter: attributes.jitterMs ?? 100 },
      },
      timeout: { type: 'timeout', attributes: { timeout: 0 } },
      reset: { type: 'reset_peer', attributes: { timeout: 0 } },
      bandwidth: { type: 'bandwidth', attributes: { rate: attributes.rateKbps ?? 16 } },
    }[toxic];
    for (const stream of ['upstream', 'downstream'] as const)
      await this.#call('POST', `/proxies/${proxy}/toxics`, {
        ...spec,
        name: `${toxic}-${stream}`,
        stream,
        toxicity: 1,
      });
  }

  async end(proxy: string, toxic: Toxic): Promise<void> {
    if (toxic === 'partition') {
      await this.#call('POST', `/proxies/${proxy}`, { enabled: true });
      return;
    }
    for (const stream of ['upstream', 'downstream'])
      await this.#call('DELETE', `/proxies/${proxy}/toxics/${toxic}-${stream}`).catch(() => {});
  }

  async #call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.#api}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`toxiproxy ${method} ${path}: ${res.status} ${await res.text()}`);
    const text = await res.text();
    return text === '' ? undefined : JSON.parse(text);
  }
}
