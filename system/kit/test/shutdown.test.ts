import assert from 'node:assert/strict';
import { createLogger, shutdown } from '../src/index.ts';

describe('shutdown', () => {
  const logger = createLogger('shutdown-test', 'silent');
  const hang = () => new Promise<void>(() => {});

  it('shares one grace period across every step: hung steps do not multiply it, and later steps still run', async () => {
    const ran: string[] = [];
    const started = performance.now();
    await shutdown(
      [
        { name: 'http', run: hang },
        { name: 'consumer', run: hang },
        { name: 'workers', run: hang },
        { name: 'pools', run: async () => void ran.push('pools') },
      ],
      2000,
      logger,
    );
    const elapsed = performance.now() - started;
    assert.deepEqual(ran, ['pools'], 'the last step still ran');
    // Three hung steps each given the full grace would take 6 s; shared, it is the grace plus a last chance each.
    assert.ok(elapsed < 4000, `shutdown took ${Math.round(elapsed)} ms for a 2000 ms grace period`);
  });
});
