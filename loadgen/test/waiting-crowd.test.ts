import assert from 'node:assert/strict';
import { waitFor } from '@reservex/kit/testing';
import { anEvent, startTicketStack, type TicketStack } from '@reservex/ticket-service/testing';
import { cannon } from '../bench/cannon.ts';
import { commandsPerSecondOver, countedCommands, countJoins } from '../bench/redis-costs.ts';
import {
  crowdSplit,
  joinCrowd,
  measureWaitingCost,
  ownPlaceReads,
  waitingCrowd,
} from '../bench/waiting-crowd.ts';
import { httpClient } from '../src/fans/http-client.ts';
import { Recorder } from '../src/run/recorder.ts';
import { standIn } from './stand-in.ts';

describe("the queue bench's waiting crowd", () => {
  it('near the front fans ask the origin with their ticket; far back they only read the shared status; all stop at the end', async () => {
    // Fans 1 and 2 stand inside the front window of a paused queue; fans 500 on stand far behind it.
    const numbers = new Map([
      ['near-1', 1],
      ['near-2', 2],
      ['far-1', 500],
      ['far-2', 501],
      ['far-3', 502],
    ]);
    const asked: Array<{ fan: string; ticket: string | undefined }> = [];
    let statusReads = 0;
    const server = await standIn((req, res) => {
      const fan = (req.headers.authorization ?? '').replace('Bearer ', '');
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST') {
        const number = numbers.get(fan)!;
        res.statusCode = 201;
        const ask = number <= 120 ? 'origin' : 'edge';
        return void res.end(
          JSON.stringify({ queueTicket: `ticket-of-${fan}`, number, draw: 0, ask, pollAfterSeconds: 0 }),
        );
      }
      if (req.url!.endsWith('/queue/status')) {
        statusReads++;
        res.setHeader('x-cache-status', statusReads === 1 ? 'MISS' : 'HIT');
        return void res.end(
          JSON.stringify({
            lottery: { size: 0, seed: 1 },
            served: 0,
            lastNumber: 502,
            etaPerSecond: null,
            fastestPerSecond: 1,
            paused: true,
            closed: false,
            soldOut: false,
            frontWindowSeconds: 120,
            salesOpenAt: new Date(0).toISOString(),
          }),
        );
      }
      asked.push({ fan, ticket: req.headers['x-queue-ticket'] as string | undefined });
      res.setHeader('retry-after', '1');
      res.end(JSON.stringify({ state: 'waiting', position: 1 }));
    });
    const http = httpClient(new Recorder(0), 4);
    try {
      const fans = await joinCrowd(http, server.url, 'e', [...numbers.keys()]);
      assert.deepEqual(crowdSplit(fans), { fans: 5, nearFront: 2, farBack: 3 });
      const until = Date.now() + 2000;
      const crowd = waitingCrowd({
        fans,
        ticketUrl: server.url,
        statusUrl: `${server.url}/api/events/e/queue/status`,
        eventId: 'e',
        until,
      });
      await crowd.finished();
      assert.ok(Date.now() - until < 1000, 'every fan stopped at the end');
      assert.deepEqual([...new Set(asked.map((a) => `${a.fan} ${a.ticket}`))].sort(), [
        'near-1 ticket-of-near-1',
        'near-2 ticket-of-near-2',
      ]);
      assert.ok(asked.length >= 4, `near the front, a poll a second: ${asked.length}`);
      assert.equal(statusReads, 3, 'each far fan read the status once: paused, they look again in 10 s');
      assert.deepEqual(crowd.recorder.edge, { requests: 3, hits: 2 });
    } finally {
      await http.close();
      server.close();
    }
  });
});

describe("the queue bench's steps against a real ticket-service", () => {
  let stack: TicketStack;
  const http = httpClient(new Recorder(0), 16);
  const fansSignedIn = async (n: number) =>
    Promise.all(Array.from({ length: n }, async () => (await stack.newUser()).token));

  /** An event on sale with a waiting room, sealed at its opening (nobody in the pre-queue), as the bench's are. */
  async function anOpenQueue(admitPerSecond: number, o: { paused?: boolean } = {}) {
    const { id } = await stack.createEvent({
      ...anEvent(),
      queue: { opensAt: new Date(Date.now() - 60_000).toISOString(), admitPerSecond, maxActive: 1000 },
    });
    if (o.paused === true) {
      const paused = await stack.ticket.patch(`/api/events/${id}/queue`, {
        token: stack.adminToken,
        body: { paused: true },
      });
      assert.equal(paused.status, 200);
    }
    await waitFor(
      async () => (await stack.ticket.get(`/api/events/${id}/queue/status`)).body.lottery ?? undefined,
      { what: 'the opening to seal the pre-queue' },
    );
    return id;
  }

  before(async () => {
    stack = await startTicketStack();
  });
  after(async () => {
    await http.close();
    await stack?.stop();
  });

  it("counts a join's Redis commands from ticket-service's own counter: three for each first join, and the shared status's reads its answers share", async () => {
    const eventId = await anOpenQueue(1, { paused: true });
    const tokens = await fansSignedIn(40);
    const counted = await countJoins([stack.ticketUrl], () =>
      cannon({
        label: 'joins',
        url: stack.ticketUrl,
        method: 'POST',
        path: () => `/api/events/${eventId}/queue`,
        tokens,
        body: '{}',
        connections: 8,
        amount: tokens.length,
      }),
    );
    assert.equal(counted.joins, 40);
    // EVALSHA, INCR and HSETNX each; the admission rate a join's answer tells is read once a second, for all of them.
    assert.ok(
      counted.commands >= 3 * 40 && counted.commands <= 3 * 40 + 4,
      `${counted.commands} commands for 40 joins`,
    );
  });

  it("reads a fan's own place with their queue ticket: ticket-service takes the number from it, not from Redis", async () => {
    const eventId = await anOpenQueue(1, { paused: true });
    const fans = await joinCrowd(http, stack.ticketUrl, eventId, await fansSignedIn(20));
    assert.equal(fans.length, 20);
    const before = await countedCommands([stack.ticketUrl]);
    const reads = await ownPlaceReads({ ticketUrl: stack.ticketUrl, eventId, fans, seconds: 1 });
    const after = await countedCommands([stack.ticketUrl]);
    assert.deepEqual(Object.keys(reads.statuses), ['200'], JSON.stringify(reads.statuses));
    // Without the ticket each read would look the fan's number up in Redis: one command each.
    const place = (after.place ?? 0) - (before.place ?? 0);
    assert.ok(
      reads.total > 20 && place < reads.total / 10,
      `${place} place commands for ${reads.total} reads`,
    );
  });

  it('measures what a waiting crowd costs Redis a second per fan, its near fans asking with their tickets, the other queues’ admission steps left out', async () => {
    // Another on-sale is being ticked all along (and the earlier tests' queues): the baseline the window is net of.
    await anOpenQueue(1);
    const baselinePerSecond = await commandsPerSecondOver([stack.ticketUrl], 2);
    const queuesTicked = (await stack.ticket.get('/metrics')).body.match(
      /^waiting_room_queue_length\{/gm,
    ).length;
    const perQueue = baselinePerSecond.tick! / queuesTicked;
    assert.ok(perQueue > 0, 'the other queues are ticked');
    // At one admission a second the front window is the next 120 places or so (the measured rate can run a little
    // faster for a moment, widening it): most of 250 fans stand behind it.
    const eventId = await anOpenQueue(1);
    const fans = await joinCrowd(http, stack.ticketUrl, eventId, await fansSignedIn(250));
    const split = crowdSplit(fans);
    assert.ok(split.fans === 250 && split.nearFront >= 100 && split.farBack >= 20, JSON.stringify(split));
    const crowd = waitingCrowd({
      fans,
      ticketUrl: stack.ticketUrl,
      statusUrl: `${stack.ticketUrl}/api/events/${eventId}/queue/status`,
      eventId,
      until: Date.now() + 4000,
    });
    const cost = await measureWaitingCost({
      crowd,
      processes: [stack.ticketUrl],
      seconds: 3,
      baselinePerSecond,
    });
    await crowd.finished();
    assert.deepEqual([...crowd.recorder.http.keys()], ['200'], 'every ticket shown was accepted');
    assert.ok(crowd.recorder.waitingNear.originRequests > 0);
    assert.ok(cost.fans > 200 && cost.fans <= 250, `${cost.fans} fans waiting`);
    assert.ok(cost.perSecond.presence! > 0, "the near fans' asks say they are there, in batches");
    // Net of the other queues' steps, the crowd's own queue's: one queue's, with its admissions and their slots.
    const ownTicks = cost.perSecond.tick!;
    assert.ok(
      ownTicks > perQueue / 2 && ownTicks < perQueue * 3,
      `the crowd's queue's steps ${ownTicks.toFixed(1)}/s; each of ${queuesTicked} other queues' ${perQueue.toFixed(1)}/s`,
    );
    assert.equal(
      cost.perWaitingFanSecond,
      (cost.perSecond.presence! + cost.perSecond.place! + ownTicks + cost.perSecond.status!) / cost.fans,
    );
  });
});
