import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { createServer as createTcpServer } from 'node:net';

/** How the origin answers one path: these headers (an ETag makes it answer a matching If-None-Match with 304). */
export interface OriginAnswer {
  headers: Record<string, string>;
  /** Time the origin takes before it answers, so that concurrent requests overlap. */
  delayMs?: number;
  /** Server-sent events: the first event at once, then the stream stays open until the client leaves. */
  stream?: boolean;
}

export interface SeenRequest {
  headers: IncomingHttpHeaders;
  /** What the origin answered: 200 with a fresh body, or 304. */
  status: number;
}

/** A plain node:http server in ticket-service's place, which counts what reaches it. */
export interface StandInOrigin {
  port: number;
  /** A fresh path, never asked before, that the origin answers as told. */
  serve(answer: OriginAnswer): string;
  seen(path: string): SeenRequest[];
  close(): Promise<void>;
}

export async function standInOrigin(): Promise<StandInOrigin> {
  const answers = new Map<string, OriginAnswer>();
  const seen = new Map<string, SeenRequest[]>();
  const open = new Set<ServerResponse>();
  const server = createServer(async (req, res) => {
    const path = req.url ?? '/';
    const answer = answers.get(path);
    const record = (status: number) => seen.get(path)?.push({ headers: req.headers, status });
    if (answer === undefined) {
      res.writeHead(404).end();
      return;
    }
    if (answer.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.stream === true) {
      record(200);
      open.add(res);
      res.on('close', () => open.delete(res));
      res.writeHead(200, { 'Content-Type': 'text/event-stream', ...answer.headers });
      res.write('event: position\ndata: {"position":1}\n\n');
      return;
    }
    const etag = answer.headers.ETag;
    if (etag !== undefined && req.headers['if-none-match'] === etag) {
      record(304);
      res.writeHead(304, answer.headers).end();
      return;
    }
    record(200);
    const fresh = (seen.get(path) ?? []).filter((r) => r.status === 200).length;
    res.writeHead(200, { 'Content-Type': 'application/json', ...answer.headers });
    res.end(JSON.stringify({ path, answer: fresh }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the stand-in origin has no port');
  return {
    port: address.port,
    serve(answer) {
      const path = `/api/stand-in/${randomUUID()}`;
      answers.set(path, answer);
      seen.set(path, []);
      return path;
    },
    seen: (path) => seen.get(path) ?? [],
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A TCP port nothing listens on at the moment of asking. */
export async function freePort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}
