import { ApiError, problemOf, rawRequest } from './api.ts';

export interface StreamHandlers {
  onEvent(event: string, data: unknown): void;
  /** True while connected; false while it waits to reconnect. */
  onConnection(connected: boolean): void;
  /** An answer that reconnecting will not change (404: not in the queue; 401: signed out). */
  onFatal(error: ApiError): void;
  /** This browser cannot read a streamed answer: the caller asks by polling instead. */
  onUnavailable(): void;
}

/** Whether this browser can read an answer as it streams in (fetch's body as a stream of text). */
export const canStream = () =>
  typeof TextDecoderStream === 'function' && typeof ReadableStream === 'function';

/**
 * Server-Sent Events over fetch rather than EventSource: EventSource cannot send the Authorization header (nor the
 * X-Queue-Ticket in `headers`), and a token in the URL would end up in logs. Reconnects after the server's
 * `retry:` (or a 503's Retry-After) with jitter.
 */
export function openStream(
  path: string,
  handlers: StreamHandlers,
  headers: Record<string, string> = {},
): () => void {
  const abort = new AbortController();
  let retryMs = 3000;

  const read = async () => {
    const res = await rawRequest('ticket', path, {
      headers: { ...headers, accept: 'text/event-stream' },
      signal: abort.signal,
    });
    if (!res.ok || res.body === null) {
      const problem = await problemOf(res);
      if (problem.status === 503 || problem.status === 429) {
        retryMs = (problem.retryAfterSeconds ?? 3) * 1000;
        return;
      }
      throw problem;
    }
    handlers.onConnection(true);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          else if (line.startsWith('retry:')) retryMs = Number(line.slice(6)) || retryMs;
        }
        if (data.length > 0) {
          try {
            handlers.onEvent(event, JSON.parse(data.join('\n')));
          } catch {
            // A malformed event is skipped; the next one brings the whole state again.
          }
        }
      }
    }
  };

  void (async () => {
    if (!canStream()) {
      handlers.onUnavailable();
      return;
    }
    while (!abort.signal.aborted) {
      try {
        await read();
      } catch (error) {
        if (abort.signal.aborted) return;
        if (error instanceof ApiError && error.status !== 0) {
          handlers.onFatal(error);
          return;
        }
      }
      if (abort.signal.aborted) return;
      handlers.onConnection(false);
      await new Promise((r) => setTimeout(r, retryMs * (0.5 + Math.random())));
    }
  })();
  return () => abort.abort();
}
