import assert from 'node:assert/strict';
import { misbehaveAfterBooking } from '../src/fans/adversaries.ts';
import { httpClient } from '../src/fans/http-client.ts';
import { seededRandom } from '../src/random.ts';
import { Recorder } from '../src/run/recorder.ts';
import { standIn } from './stand-in.ts';

describe('a misbehaving fan, judged', () => {
  it('sends a hasty cancel again after a 503 from a saturated service, and judges the answer it finally gets', async () => {
    const cancels: string[] = [];
    const server = await standIn((req, res) => {
      cancels.push(`${req.method} ${req.url}`);
      res.setHeader('content-type', 'application/problem+json');
      if (cancels.length === 1) {
        // What the load shedder answers (kit/load-shedder.ts): not a refusal, a "later".
        res.writeHead(503, { 'retry-after': '0' });
        return res.end(JSON.stringify({ type: 'https://reservex.dev/problems/overloaded', status: 503 }));
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: 'r1', status: 'CANCELLED', seats: [] }));
    });
    const rec = new Recorder(1);
    const http = httpClient(rec, 2);
    try {
      await misbehaveAfterBooking({
        kinds: new Set(['cancel-pending']),
        rec,
        http,
        reserve: () => assert.fail('a cancel books nothing'),
        cancelUrl: `${server.url}/api/reservations/r1`,
        auth: 'fan',
        userId: 'u1',
        fanIndex: 1,
        booked: { key: 'fan-1-0', seatIds: ['s1'], token: undefined },
        otherSeatIds: [],
        queued: false,
        random: seededRandom(1),
      });
      assert.deepEqual(cancels, ['DELETE /api/reservations/r1', 'DELETE /api/reservations/r1']);
      assert.deepEqual(rec.misbehaviour('cancel-pending'), { tried: 1, refused: 1, wrong: 0 });
      assert.deepEqual(rec.wrongAnswers, []);
    } finally {
      await http.close();
      server.close();
    }
  });
});
