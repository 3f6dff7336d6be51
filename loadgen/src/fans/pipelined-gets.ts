import { connect, type Socket } from 'node:net';
import type { Recorder } from '../run/recorder.ts';
import type { Reply } from './http-client.ts';
import { type RawResponse, ResponseReader } from './http1-responses.ts';

interface Asked {
  /** The request as it goes on the wire: its line and headers. */
  head: string;
  resolve: (response: RawResponse | undefined) => void;
  /** Sent once more already, after a connection closed under it. */
  again: boolean;
}

/** No answer on a connection with requests outstanding for this long: the connection is given up. */
const SILENCE_MS = 30_000;

/**
 * GETs of the waiting crowd, HTTP/1.1 over a few kept-alive connections to one origin, pipelined (RFC 9112 section
 * 9.3.2): the requests due in one turn of the event loop go out in one write per connection, and the answers come
 * back in order. Every fan's request is still its own request, answered on its own by the server or the edge; what
 * is shared is the connection and the write, which a million fans' browsers would not share, and which is what
 * the generator's own CPU went on (undici's per-request machinery and one write per request: 44% of a profile at
 * full size, and the generator could not keep up). Only GETs, so a request that a closing connection left
 * unanswered is sent once more, on another connection, as a browser would (RFC 9112 section 9.3.1).
 */
export class PipelinedGets {
  readonly #host: string;
  readonly #port: number;
  readonly #hostHeader: string;
  readonly #connections: Connection[] = [];
  /**
   * Requests waiting for room on a connection (every connection has `depth` outstanding), taken from `#head`: an
   * opening's herd can line up hundreds of thousands, and `Array.shift` moves them all each time.
   */
  #queued: Asked[] = [];
  #head = 0;
  #flushing = false;
  #closed = false;
  readonly recorder: Recorder;
  /** At most this many connections, each with at most `depth` requests outstanding. */
  readonly connections: number;
  readonly depth: number;

  constructor(origin: string, recorder: Recorder, connections = 16, depth = 16) {
    this.recorder = recorder;
    this.connections = connections;
    this.depth = depth;
    const url = new URL(origin);
    if (url.protocol !== 'http:') throw new Error(`pipelined GETs speak plain HTTP/1.1, not ${url.protocol}`);
    this.#host = url.hostname;
    this.#port = Number(url.port || 80);
    this.#hostHeader = url.host;
  }

  /** The answer, as the generator's other client gives it; status 0 when the origin could not be reached. */
  async get<T>(pathAndQuery: string, headers: Record<string, string> = {}): Promise<Reply<T>> {
    if (this.#closed) throw new Error('the pipelined client is closed');
    let head = `GET ${pathAndQuery} HTTP/1.1\r\nhost: ${this.#hostHeader}\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    head += '\r\n';
    const raw = await new Promise<RawResponse | undefined>((resolve) =>
      this.#send({ head, resolve, again: false }),
    );
    if (raw === undefined) {
      this.recorder.countHttp('network-error');
      return { status: 0, headers: {}, body: undefined as T };
    }
    this.recorder.countHttp(raw.status, raw.headers['retry-after'] !== undefined);
    const type = raw.headers['content-type'] ?? '';
    const text = raw.body.toString('utf8');
    const json = type.includes('json') && text !== '';
    // A shared answer (the edge's status: public) arrives thousands of times a second and changes a few: read once.
    const shared = /\bpublic\b/.test(raw.headers['cache-control'] ?? '');
    const body = json ? (shared ? parseShared(text) : JSON.parse(text)) : text;
    return { status: raw.status, headers: raw.headers, body: body as T };
  }

  /** Waits for nothing: outstanding requests end as network errors. */
  close(): void {
    this.#closed = true;
    for (const c of this.#connections) c.socket.destroy();
    for (const asked of this.#queued.slice(this.#head)) asked.resolve(undefined);
    this.#queued = [];
    this.#head = 0;
  }

  /** First come, first sent: behind any already waiting for room. */
  #send(asked: Asked): void {
    this.#queued.push(asked);
    this.answered();
  }

  /** The connection with the fewest outstanding requests, if one has room; a new one while fewer than allowed. */
  #roomy(): Connection | undefined {
    let best: Connection | undefined;
    for (const c of this.#connections)
      if (c.open && (best === undefined || c.outstanding < best.outstanding)) best = c;
    if ((best === undefined || best.outstanding > 0) && this.#connections.length < this.connections)
      best = this.#open();
    return best !== undefined && best.outstanding < this.depth ? best : undefined;
  }

  #open(): Connection {
    const connection = new Connection(connect({ host: this.#host, port: this.#port }), this);
    this.#connections.push(connection);
    return connection;
  }

  #scheduleFlush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    setImmediate(() => {
      this.#flushing = false;
      for (const c of this.#connections) c.flush();
    });
  }

  /** A connection answered one, or a new one may open: room for queued requests. */
  answered(): void {
    while (this.#head < this.#queued.length) {
      const connection = this.#roomy();
      if (connection === undefined) break;
      connection.add(this.#queued[this.#head++]!);
      this.#scheduleFlush();
    }
    // What was taken is dropped now and then, in one copy, once it is most of the array.
    if (this.#head > 1024 && this.#head * 2 > this.#queued.length) {
      this.#queued = this.#queued.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * A connection is gone. What it sent and had no answer to goes out once more, first on a fresh connection: a
   * server that closes after so many requests (nginx after 1,000) closes every connection at about the same count,
   * and one resent on an old connection was lost again. A second loss is a network error. What it never wrote goes
   * there too, behind them, as it was.
   */
  lost(connection: Connection, sent: Asked[], unsent: Asked[], why: string): void {
    const i = this.#connections.indexOf(connection);
    if (i >= 0) this.#connections.splice(i, 1);
    const again: Asked[] = [];
    for (const asked of sent) {
      if (this.#closed || asked.again) {
        this.recorder.error(`GET ${asked.head.slice(4, asked.head.indexOf(' HTTP/1.1'))}: ${why}`);
        asked.resolve(undefined);
      } else {
        asked.again = true;
        this.recorder.closedKeepAliveRetries++;
        again.push(asked);
      }
    }
    const moving = [...again, ...unsent];
    if (moving.length > 0 && this.#closed) for (const asked of moving) asked.resolve(undefined);
    else if (moving.length > 0) {
      const fresh = this.#open();
      for (const asked of moving) fresh.add(asked);
      this.#scheduleFlush();
    }
    this.answered();
  }
}

/** The last shared answer read, as text and as read: the same object for every fan given the same text. */
let lastText = '';
let lastParsed: unknown;
function parseShared(text: string): unknown {
  if (text !== lastText) [lastText, lastParsed] = [text, JSON.parse(text)];
  return lastParsed;
}

class Connection {
  readonly #reader = new ResponseReader();
  /** Sent, in order, awaiting their answers. */
  readonly #sent: Asked[] = [];
  /** Added since the last write. */
  #unsent: Asked[] = [];
  #gone = false;
  readonly socket: Socket;
  readonly client: PipelinedGets;

  constructor(socket: Socket, client: PipelinedGets) {
    this.socket = socket;
    this.client = client;
    socket.setNoDelay(true);
    socket.setTimeout(SILENCE_MS, () => {
      if (this.outstanding > 0) socket.destroy(new Error(`no answer in ${SILENCE_MS / 1000} s`));
    });
    socket.on('data', (piece: Buffer) => this.#received(piece));
    socket.on('error', (error) => this.#lose(error.message));
    socket.on('close', () => this.#lose('the connection closed'));
  }

  /** Takes requests: not after the server said it closes, nor once closed. */
  get open(): boolean {
    return !this.#gone && !this.socket.destroyed;
  }

  get outstanding(): number {
    return this.#sent.length + this.#unsent.length;
  }

  add(asked: Asked): void {
    this.#unsent.push(asked);
  }

  flush(): void {
    if (this.#gone || this.#unsent.length === 0) return;
    let out = '';
    for (const asked of this.#unsent) {
      out += asked.head;
      this.#sent.push(asked);
    }
    this.#unsent = [];
    this.socket.write(out, 'latin1');
  }

  #received(piece: Buffer): void {
    let responses: RawResponse[];
    try {
      responses = this.#reader.read(piece);
    } catch (error) {
      this.socket.destroy(error as Error);
      return;
    }
    for (const response of responses) {
      const asked = this.#sent.shift();
      if (asked === undefined) {
        this.socket.destroy(new Error('an answer to no request'));
        return;
      }
      asked.resolve(response);
      this.client.answered();
      // The server says it closes after this answer: what follows goes elsewhere, when the close comes.
      if (/\bclose\b/i.test(response.headers.connection ?? '')) this.#gone = true;
    }
  }

  /** Called on an error and again on the close that follows: the second time there is nothing left to hand on. */
  #lose(why: string): void {
    this.#gone = true;
    const sent = this.#sent.splice(0);
    const unsent = this.#unsent;
    this.#unsent = [];
    this.client.lost(this, sent, unsent, why);
  }
}
