import assert from 'node:assert/strict';
import { edgeHitRatio, edgeUp, statusAtOriginAndEdge } from '../bench/shared-status.ts';
import { standIn } from './stand-in.ts';

describe("the queue bench's shared status, at the origin and through the edge", () => {
  it('counts hits and stale answers as served by the edge, and misses, expiries, revalidations and bypasses as the origin’s', () => {
    assert.equal(edgeHitRatio({ HIT: 6, STALE: 1, UPDATING: 1, MISS: 1, EXPIRED: 1 }), 0.8);
    assert.equal(edgeHitRatio({ REVALIDATED: 3, BYPASS: 1, '': 1 }), 0);
    assert.equal(edgeHitRatio({}), 0);
  });

  it('measures both side by side, with the Redis commands ticket-service counted for the status meanwhile', async () => {
    // The origin counts one Redis command per status it builds; the edge answers from its cache after one miss.
    let built = 0;
    const origin = await standIn((req, res) => {
      if (req.url === '/metrics')
        return void res.end(
          `waiting_room_redis_commands_total{purpose="status",service="ticket-service"} ${built}\n`,
        );
      built++;
      res.end('{}');
    });
    let edgeAnswers = 0;
    const edge = await standIn((_req, res) => {
      res.setHeader('X-Cache-Status', edgeAnswers++ === 0 ? 'MISS' : 'HIT');
      res.end('{}');
    });
    try {
      const runs = await statusAtOriginAndEdge({
        origin: origin.url,
        edge: edge.url,
        eventId: 'e',
        seconds: 1,
        processes: [origin.url],
      });
      assert.ok(runs.origin.total > 0 && runs.edge.total > 0);
      const atOrigin = runs.origin.statusCommandsPerSecond;
      assert.ok(
        atOrigin >= runs.origin.total && atOrigin <= runs.origin.total + 64,
        `${atOrigin} commands/s`,
      );
      assert.equal(runs.edge.statusCommandsPerSecond, 0, 'the edge asked the origin nothing');
      assert.equal(runs.edgeHitRatio, (runs.edge.total - 1) / runs.edge.total);
    } finally {
      origin.close();
      edge.close();
    }
  });

  it('tells an edge that answers its health page from one that is down', async () => {
    const edge = await standIn((req, res) => {
      res.statusCode = req.url === '/edge-health' ? 200 : 404;
      res.end('ok');
    });
    assert.equal(await edgeUp(edge.url), true);
    edge.close();
    assert.equal(await edgeUp(edge.url), false);
  });
});
