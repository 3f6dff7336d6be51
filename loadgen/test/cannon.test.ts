import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cannon } from '../bench/cannon.ts';

describe("the bench's request cannon", () => {
  it('takes a fixed-amount rate over the time the requests took, not rounded up to whole seconds', async () => {
    // 10 ms an answer, 10 at once: 200 requests take about 0.2 s. autocannon's own duration for them is a whole
    // second (it notices the end on its next tick), which made the rate about five times too low.
    let first = 0;
    let last = 0;
    const server = createServer((_req, res) => {
      if (first === 0) first = performance.now();
      setTimeout(() => {
        last = performance.now();
        res.end('ok');
      }, 10);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const result = await cannon({
        label: 'fixed amount',
        url: `http://127.0.0.1:${port}`,
        path: () => '/',
        connections: 10,
        amount: 200,
      });
      assert.equal(result.total, 200);
      // What the server saw, with room for the client's side of the first and last request.
      const served = 200 / ((last - first) / 1000);
      assert.ok(
        result.requestsPerSecond > served / 2 && result.requestsPerSecond < served * 1.5,
        `rate ${result.requestsPerSecond.toFixed(0)}/s, the server served ${served.toFixed(0)}/s`,
      );
    } finally {
      server.close();
    }
  });
});
