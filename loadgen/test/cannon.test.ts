import assert from 'node:assert/strict';
import { cannon, mustHaveSucceeded } from '../bench/cannon.ts';
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

  it("tallies the answers by a header's value, however the server spells its name: the edge's cache statuses", async () => {
    let n = 0;
    const server = await standIn((_req, res) => {
      n++;
      // Every third answer a miss, and one in ten says nothing at all.
      if (n % 10 !== 0) res.setHeader('X-Cache-Status', n % 3 === 0 ? 'MISS' : 'HIT');
      res.end('{}');
    });
    try {
      const result = await cannon({
        label: 'tally',
        url: server.url,
        path: () => '/',
        connections: 4,
        amount: 60,
        countHeader: 'x-cache-status',
      });
      const expected = { HIT: 0, MISS: 0, '': 0 };
      for (let i = 1; i <= 60; i++) expected[i % 10 === 0 ? '' : i % 3 === 0 ? 'MISS' : 'HIT']++;
      assert.deepEqual(result.headerValues, expected);
    } finally {
      server.close();
    }
  });

  it("sends each request's own headers with the token taken in the same turn: a fan's queue ticket goes with their token", async () => {
    const pairs: string[] = [];
    const server = await standIn((req, res) => {
      pairs.push(`${req.headers.authorization} ${req.headers['x-queue-ticket']}`);
      res.end('{}');
    });
    const fans = ['ann', 'bo', 'cy'];
    try {
      await cannon({
        label: 'tickets',
        url: server.url,
        path: () => '/',
        tokens: fans,
        headersOf: (i) => ({ 'x-queue-ticket': `ticket-of-${fans[i % fans.length]}` }),
        connections: 3,
        amount: 30,
      });
      assert.equal(pairs.length, 30);
      assert.deepEqual(
        [...new Set(pairs)].sort(),
        fans.map((fan) => `Bearer ${fan} ticket-of-${fan}`),
      );
    } finally {
      server.close();
    }
  });

  it('refuses a run whose answers were mostly failures, but lets a stray one through', () => {
    const run = (statuses: Record<string, number>, errors = 0) => ({
      label: 'joins',
      requestsPerSecond: 1000,
      total: Object.values(statuses).reduce((a, b) => a + b, 0),
      p50Ms: 1,
      p99Ms: 2,
      statuses,
      errors,
    });
    assert.doesNotThrow(() => mustHaveSucceeded(run({ '201': 995, '304': 4, '503': 1 })));
    assert.throws(() => mustHaveSucceeded(run({ '201': 900, '429': 100 })), /joins: only 90.0% answered 2xx/);
    assert.throws(() => mustHaveSucceeded(run({ '200': 98 }, 2)), /only 98.0%/);
    assert.throws(() => mustHaveSucceeded(run({})), /only 0.0%/);
  });
});
