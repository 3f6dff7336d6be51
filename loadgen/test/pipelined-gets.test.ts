import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { MalformedResponse, ResponseReader } from '../src/fans/http1-responses.ts';
import { PipelinedGets } from '../src/fans/pipelined-gets.ts';
import { Recorder } from '../src/run/recorder.ts';
import { standIn } from './stand-in.ts';

const bytes = (s: string) => Buffer.from(s, 'latin1');

describe('HTTP/1.1 responses read off a connection', () => {
  it('reads responses split anywhere and several in one piece, framed by length, chunks or none', () => {
    const wire =
      'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"a":"bcd"}' +
      'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n' +
      'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nbusy\r\n2\r\n!!\r\n0\r\nT: 1\r\n\r\n' +
      'HTTP/1.1 204 No Content\r\nSet-Cookie: a\r\nSet-Cookie: b\r\n\r\n';
    // Every split point: the same four responses, whatever the pieces.
    for (let cut = 1; cut < wire.length; cut += 7) {
      const reader = new ResponseReader();
      const got = [...reader.read(bytes(wire.slice(0, cut))), ...reader.read(bytes(wire.slice(cut)))];
      assert.deepEqual(
        got.map((r) => [r.status, r.body.toString('latin1')]),
        [
          [200, '{"a":"bcd"}'],
          [304, ''],
          [503, 'busy!!'],
          [204, ''],
        ],
        `cut at ${cut}`,
      );
      assert.equal(got[0]!.headers['content-type'], 'application/json');
      assert.equal(got[2]!.headers['retry-after'], '3');
      assert.equal(got[3]!.headers['set-cookie'], 'a, b');
      assert.equal(reader.pending, 0);
    }
  });

  it('refuses what it cannot frame on a kept-alive connection', () => {
    assert.throws(() => new ResponseReader().read(bytes('HTTP/1.1 200 OK\r\n\r\nbody')), MalformedResponse);
    assert.throws(() => new ResponseReader().read(bytes('SMTP ready\r\n\r\n')), MalformedResponse);
    assert.throws(
      () => new ResponseReader().read(bytes('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n')),
      MalformedResponse,
    );
  });
});

/**
 * A server that answers `answers` requests on each connection and then closes it under the rest (once those are on
 * their way: a server answers pipelined requests in order, so they are written before it reads on); `/never` it
 * closes under at once.
 */
function closesAfter(answers: number) {
  const served = new WeakMap<Socket, number>();
  return standIn((req, res) => {
    const count = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, count);
    if (req.url === '/never') return void req.socket.destroy();
    if (count > answers) return void setTimeout(() => req.socket.destroy(), 20);
    res.end(`answer to ${req.url}`);
  });
}

describe("the waiting crowd's pipelined GETs", () => {
  it('answers every request with its own answer, many to a connection, in order', async () => {
    const sockets = new Set<Socket>();
    let inFlightMax = 0;
    let inFlight = 0;
    const server = await standIn((req, res) => {
      sockets.add(req.socket);
      inFlight++;
      inFlightMax = Math.max(inFlightMax, inFlight);
      // Answers out of arrival order in time: the server's own order per connection must still hold.
      setTimeout(() => {
        inFlight--;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ path: req.url, fan: req.headers['x-fan'] }));
      }, Math.random() * 5);
    });
    const recorder = new Recorder(1);
    const client = new PipelinedGets(server.url, recorder, 2, 8);
    try {
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          client.get<{ path: string; fan: string }>(`/fans/${i}?look=1`, { 'x-fan': String(i) }),
        ),
      );
      answers.forEach((a, i) => {
        assert.equal(a.status, 200);
        assert.deepEqual(a.body, { path: `/fans/${i}?look=1`, fan: String(i) });
      });
      assert.ok(sockets.size <= 2, `${sockets.size} connections`);
      assert.equal(recorder.http.get('200'), 200);
      assert.equal(recorder.closedKeepAliveRetries, 0);
    } finally {
      client.close();
      server.close();
    }
  });

  it('keeps a long line in order when every connection is full', async () => {
    const server = await standIn((req, res) => res.end(req.url));
    const client = new PipelinedGets(server.url, new Recorder(1), 1, 4);
    try {
      const answers = await Promise.all(Array.from({ length: 3000 }, (_, i) => client.get<string>(`/${i}`)));
      assert.deepEqual(
        answers.map((a) => a.body),
        answers.map((_, i) => `/${i}`),
      );
    } finally {
      client.close();
      server.close();
    }
  });

  it('sends what a closing connection left unanswered once more elsewhere; a second loss is a network error', async () => {
    // Each connection answers three requests, then closes under the rest.
    const server = await closesAfter(3);
    const recorder = new Recorder(1);
    const client = new PipelinedGets(server.url, recorder, 1, 6);
    try {
      // Five out on one connection: three answered, two left unanswered and sent again on the next one.
      const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => client.get<string>(`/${i}`)));
      assert.deepEqual(
        answers.map((a) => [a.status, a.body]),
        Array.from({ length: 5 }, (_, i) => [200, `answer to /${i}`]),
      );
      assert.equal(recorder.closedKeepAliveRetries, 2);
      const lost = await client.get('/never');
      assert.equal(lost.status, 0);
      assert.equal(recorder.http.get('network-error'), 1);
    } finally {
      client.close();
      server.close();
    }
  });

  it('sends a request lost to a server that closes every connection after so many first on a fresh one, so it is not lost again', async () => {
    // As nginx's keepalive_requests (1,000): eight answers a connection, more than the four a connection may have
    // outstanding, then it closes under whatever else was sent.
    const server = await closesAfter(8);
    const recorder = new Recorder(1);
    const client = new PipelinedGets(server.url, recorder, 1, 4);
    try {
      const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => client.get<string>(`/${i}`)));
      assert.deepEqual(
        answers.map((a) => [a.status, a.body]),
        Array.from({ length: 60 }, (_, i) => [200, `answer to /${i}`]),
      );
      assert.equal(recorder.http.get('network-error'), undefined);
      assert.ok(recorder.closedKeepAliveRetries > 0, 'connections closed under requests');
    } finally {
      client.close();
      server.close();
    }
  });

  it('moves on after an answer that says the connection closes', async () => {
    const sockets = new Set<Socket>();
    const server = await standIn((req, res) => {
      sockets.add(req.socket);
      res.setHeader('connection', 'close');
      res.end('bye');
    });
    const recorder = new Recorder(1);
    const client = new PipelinedGets(server.url, recorder, 1, 4);
    try {
      for (let i = 0; i < 3; i++) assert.equal((await client.get(`/${i}`)).body, 'bye');
      assert.equal(sockets.size, 3, 'a new connection for each');
    } finally {
      client.close();
      server.close();
    }
  });

  it('reads a shared (public) answer once for every fan, and a fan’s own answer for each', async () => {
    const server = await standIn((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/status') res.setHeader('cache-control', 'public, max-age=1');
      res.end('{"served":7}');
    });
    const client = new PipelinedGets(server.url, new Recorder(1), 1, 4);
    try {
      const [a, b] = await Promise.all([client.get('/status'), client.get('/status')]);
      assert.deepEqual(a.body, { served: 7 });
      assert.equal(a.body, b.body, 'one object for the same shared text');
      const [c, d] = await Promise.all([client.get('/me'), client.get('/me')]);
      assert.deepEqual(c.body, { served: 7 });
      assert.notEqual(c.body, d.body, 'a private answer is the fan’s own');
    } finally {
      client.close();
      server.close();
    }
  });
});
