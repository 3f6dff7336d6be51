import assert from 'node:assert/strict';
import { cannon } from '../bench/cannon.ts';
import { standIn } from './stand-in.ts';

describe("the bench's request cannon", () => {
  it('takes a fixed-amount rate over the time the requests took, not rounded up to whole seconds', async () => {
    // 10 ms an answer, 10 at once: 100 requests take about 0.1 s. autocannon's own duration for them is a whole
    // second (it notices the end on its next tick), which made the rate about ten times too low. The bounds below
    // are one-sided, so a slow machine cannot fail them: the time counted runs at least from the server's first
    // request to its last answer, and ends no later than that last answer reached the client.
    let first = 0;
    let last = 0;
    const server = await standIn((_req, res) => {
      if (first === 0) first = performance.now();
      setTimeout(() => {
        last = performance.now();
        res.end('ok');
      }, 10);
    });
    try {
      const calledAt = performance.now();
      const result = await cannon({
        label: 'fixed amount',
        url: server.url,
        path: () => '/',
        connections: 10,
        amount: 100,
      });
      assert.equal(result.total, 100);
      const countedMs = (result.total / result.requestsPerSecond) * 1000;
      assert.ok(
        countedMs >= last - first,
        `counted ${countedMs.toFixed(0)} ms, less than the ${(last - first).toFixed(0)} ms the server was answering`,
      );
      // Half a second for the last answer to travel from the server's socket to the client's: far more than
      // loopback needs, far less than the rest of autocannon's one-second tick.
      assert.ok(
        countedMs <= last - calledAt + 500,
        `counted ${countedMs.toFixed(0)} ms; the last answer left the server ${(last - calledAt).toFixed(0)} ms after the start`,
      );
    } finally {
      server.close();
    }
  });
});
