// biome-ignore lint/suspicious/noExplicitAny: test assertions read bodies of every shape; unknown would need a cast per line
export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A small JSON client for tests: raw status, headers and parsed body, never throws on 4xx/5xx. */
export function httpClient(baseUrl: string) {
  async function send(
    method: string,
    path: string,
    options: { body?: unknown; raw?: string; headers?: Record<string, string>; token?: string } = {},
  ): Promise<HttpResult> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.raw !== undefined) {
      body = options.raw;
      headers['content-type'] ??= 'application/json';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(new URL(path, baseUrl), { method, headers, body });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return {
      status: response.status,
      headers: response.headers,
      body: /json/.test(type) && text !== '' ? JSON.parse(text) : text,
    };
  }
  return {
    get: (path: string, options?: Parameters<typeof send>[2]) => send('GET', path, options),
    post: (path: string, options?: Parameters<typeof send>[2]) => send('POST', path, options),
    put: (path: string, options?: Parameters<typeof send>[2]) => send('PUT', path, options),
    patch: (path: string, options?: Parameters<typeof send>[2]) => send('PATCH', path, options),
    delete: (path: string, options?: Parameters<typeof send>[2]) => send('DELETE', path, options),
  };
}

export type HttpClient = ReturnType<typeof httpClient>;
