/** One HTTP/1.1 response as read off a connection: its status, its headers (names in lower case), its body. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
/** A head longer than this is not an answer a fan's client would wait for: the connection is given up. */
const MAX_HEAD_BYTES = 64 * 1024;

export class MalformedResponse extends Error {}

/**
 * HTTP/1.1 responses read in order from one connection's bytes, as they arrive in pieces: the framing of RFC 9112
 * section 6 (no body for 1xx, 204 and 304; chunked; Content-Length; else the body runs to the connection's close,
 * which a pipelined connection cannot use, so it is refused). Only what a fan's GET needs: no trailers kept, no
 * interim responses expected.
 */
export class ResponseReader {
  #buffered: Buffer = Buffer.alloc(0);

  /** Every response the bytes so far complete, in order; what is left waits for the next piece. */
  read(piece: Buffer): RawResponse[] {
    this.#buffered = this.#buffered.length === 0 ? piece : Buffer.concat([this.#buffered, piece]);
    const done: RawResponse[] = [];
    for (;;) {
      const response = this.#next();
      if (response === undefined) break;
      done.push(response);
    }
    return done;
  }

  /** Bytes received that no response has claimed yet. */
  get pending(): number {
    return this.#buffered.length;
  }

  #next(): RawResponse | undefined {
    const buf = this.#buffered;
    const headEnd = buf.indexOf(HEAD_END);
    if (headEnd < 0) {
      if (buf.length > MAX_HEAD_BYTES) throw new MalformedResponse('a response head longer than 64 KiB');
      return undefined;
    }
    const lines = buf.toString('latin1', 0, headEnd).split('\r\n');
    const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (statusLine === null) throw new MalformedResponse(`not a status line: ${JSON.stringify(lines[0])}`);
    const status = Number(statusLine[1]);
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new MalformedResponse(`not a header line: ${JSON.stringify(line)}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const bodyStart = headEnd + HEAD_END.length;
    const framed = this.#body(status, headers, bodyStart);
    if (framed === undefined) return undefined;
    this.#buffered = buf.subarray(framed.end);
    return { status, headers, body: framed.body };
  }

  #body(
    status: number,
    headers: Record<string, string>,
    start: number,
  ): { body: Buffer; end: number } | undefined {
    const buf = this.#buffered;
    if (status < 200 || status === 204 || status === 304) return { body: Buffer.alloc(0), end: start };
    if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) return this.#chunked(start);
    const length = headers['content-length'];
    if (length === undefined)
      throw new MalformedResponse(
        'a response without Content-Length or chunked framing on a kept-alive connection',
      );
    if (!/^\d+$/.test(length)) throw new MalformedResponse(`Content-Length ${JSON.stringify(length)}`);
    const end = start + Number(length);
    return buf.length < end ? undefined : { body: buf.subarray(start, end), end };
  }

  #chunked(start: number): { body: Buffer; end: number } | undefined {
    const buf = this.#buffered;
    const parts: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = buf.indexOf(CRLF, at);
      if (lineEnd < 0) return undefined;
      const size = Number.parseInt(buf.toString('latin1', at, lineEnd).split(';')[0]!.trim(), 16);
      if (!Number.isFinite(size) || size < 0)
        throw new MalformedResponse('a chunk size that is not hexadecimal');
      at = lineEnd + CRLF.length;
      if (size === 0) {
        // Trailer fields, if any, up to an empty line: read past, not kept.
        for (;;) {
          const trailerEnd = buf.indexOf(CRLF, at);
          if (trailerEnd < 0) return undefined;
          const empty = trailerEnd === at;
          at = trailerEnd + CRLF.length;
          if (empty) return { body: Buffer.concat(parts), end: at };
        }
      }
      if (buf.length < at + size + CRLF.length) return undefined;
      parts.push(buf.subarray(at, at + size));
      at += size + CRLF.length;
    }
  }
}
