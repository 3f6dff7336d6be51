import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { httpClient } from '../src/fans/http-client.ts';
import { Recorder } from '../src/run/recorder.ts';
import { standIn } from './stand-in.ts';

/**
 * A server that answers the first request on each connection and keeps it open, then closes the connection under
 * the second one without an answer: a kept-alive connection closed for being idle just as a request went out on it.
 */
async function closesUnderTheSecondRequest() {
  const served = new WeakMap<Socket, number>();
  let answered = 0;
  const server = await standIn((req, res) => {
    const count = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, count);
    if (count > 1) {
      req.socket.destroy();
      return;
    }
    answered++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true }));
  });
  return { ...server, answered: () => answered };
}

describe("the generator's HTTP client", () => {
  it('sends a GET, a POST with an Idempotency-Key or one said to be idempotent, again on a fresh connection when a kept-alive one closes under it; another POST it does not', async () => {
    const server = await closesUnderTheSecondRequest();
    const recorder = new Recorder(1);
    // One connection, so the second request goes out on the kept-alive one.
    const http = httpClient(recorder, 1);
    try {
      assert.equal((await http.get(`${server.url}/a`)).status, 200);
      const again = await http.get(`${server.url}/b`);
      assert.equal(again.status, 200, 'the GET was answered on a fresh connection');
      assert.equal(recorder.closedKeepAliveRetries, 1);
      assert.equal(recorder.http.get('network-error'), undefined);
      const post = await http.post(`${server.url}/c`, { body: {} });
      assert.equal(post.status, 0, 'a POST is not sent twice behind the caller’s back');
      assert.equal(recorder.http.get('network-error'), 1);
      assert.equal(server.answered(), 2);
      // With an Idempotency-Key the server answers a repeat as the first: it is sent once more, like a GET. (A GET
      // first, so the POST goes out on a kept-alive connection.)
      assert.equal((await http.get(`${server.url}/e`)).status, 200);
      const keyed = await http.post(`${server.url}/d`, { body: {}, headers: { 'idempotency-key': 'k1' } });
      assert.equal(keyed.status, 200);
      assert.equal(recorder.closedKeepAliveRetries, 2);
      // One the API answers as a repeat (a join), so said by its caller: sent once more too.
      assert.equal((await http.get(`${server.url}/f`)).status, 200);
      const join = await http.post(`${server.url}/queue`, { body: {}, idempotent: true });
      assert.equal(join.status, 200);
      assert.equal(recorder.closedKeepAliveRetries, 3);
      assert.equal(recorder.http.get('network-error'), 1);
    } finally {
      await http.close();
      server.close();
    }
  });
});
