import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Crowd } from '../src/fans/arrival.ts';

describe('the crowd arriving in turn, behind one timer', () => {
  it('starts each journey in order and not before its time, and is done only when the last journey ends', async () => {
    const start = Date.now() + 20;
    const at = [0, 0, 5, 30, 30, 60].map((offset) => start + offset);
    const crowd = new Crowd(at);
    const started: { index: number; early: number }[] = [];
    let ended = 0;
    await crowd.arrive((index) => {
      started.push({ index, early: at[index]! - Date.now() });
      // The first fan's journey runs longest: the crowd is not done when the last fan arrives.
      void sleep(index === 0 ? 150 : 10).then(() => {
        ended++;
        crowd.ended(index);
      });
      return true;
    });
    assert.deepEqual(
      started.map((s) => s.index),
      [0, 1, 2, 3, 4, 5],
    );
    assert.ok(
      started.every((s) => s.early <= 0),
      `a fan arrived before their time: ${JSON.stringify(started)}`,
    );
    assert.equal(ended, 6);
  });

  it('is done at once for an empty crowd, and counts a fan who never set out (the run was over) as done', async () => {
    await new Crowd([]).arrive(() => assert.fail('no fan to start'));
    let asked = 0;
    await new Crowd([Date.now(), Date.now() + 10]).arrive(() => {
      asked++;
      return false;
    });
    assert.equal(asked, 2);
  });

  it('fails, rather than miscounting or crashing, when a journey ends twice, ends before it started, or cannot start', async () => {
    const twice = new Crowd([Date.now(), Date.now() + 50]);
    await assert.rejects(
      twice.arrive((index) => {
        if (index === 0) {
          twice.ended(0);
          twice.ended(0);
        }
        return true;
      }),
      /fan 0 ended twice/,
    );
    const broken = new Crowd([Date.now(), Date.now() + 20]);
    await assert.rejects(
      broken.arrive((index) => {
        if (index === 1) throw new Error('no such fan');
        return true;
      }),
      /no such fan/,
    );
    const early = new Crowd([Date.now() + 50]);
    const arriving = early.arrive(() => true);
    early.ended(0);
    await assert.rejects(arriving, /fan 0 ended before it started/);
  });
});
