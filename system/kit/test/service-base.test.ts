import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { baseConfigSchema, serviceBase } from '../src/index.ts';
import { createTestDatabase, httpClient, type TestDatabase, waitFor } from '../src/testing/index.ts';

/** A port nothing listens on now: the base listens on it, so the test can call the service before start resolves. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const refused = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

describe('the service base: how every service starts and stops (real PostgreSQL)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('service_base');
  });
  after(async () => db?.drop());

  async function aBase(env: Record<string, string> = {}) {
    const port = await freePort();
    const config = baseConfigSchema.parse({ DATABASE_URL: db.url, LOG_LEVEL: 'silent', ...env });
    const base = serviceBase(
      'base-test',
      { ...config, PORT: port },
      {
        notReady: 'nothing prepared yet: waiting for the test',
        waitsFor: 'the test',
      },
    );
    const app = base.httpApp({ openapi: {}, routes: () => {} });
    return { base, app, api: httpClient(`http://127.0.0.1:${port}`) };
  }

  it('listens before start-up is done: liveness answers, readiness says DOWN and why; start-up is retried until it succeeds, then the workers start in order', async () => {
    const { base, app, api } = await aBase();
    let attempts = 0;
    let letPrepare: () => void = () => {};
    const prepared = new Promise<void>((resolve) => {
      letPrepare = resolve;
    });
    const started: string[] = [];
    const starting = base.start(app, async () => {
      attempts++;
      if (attempts === 1) throw refused();
      await prepared;
    }, [{ start: () => void started.push('first') }, { start: async () => void started.push('second') }]);
    try {
      await waitFor(async () => attempts >= 2, { what: 'start-up to be tried again' });
      assert.equal((await api.get('/actuator/health/liveness')).status, 200);
      const ready = await api.get('/actuator/health');
      assert.equal(ready.status, 503);
      assert.equal(ready.body.components.startup.error, 'nothing prepared yet: waiting for the test');
      assert.deepEqual(started, []);
      letPrepare();
      await starting;
      assert.deepEqual(started, ['first', 'second']);
      assert.equal((await api.get('/actuator/health')).status, 200);
    } finally {
      letPrepare();
      await base.stop([base.closeHttp]);
    }
  });

  it('a stop while start-up still waits gives start-up up, and closes what it opened', async () => {
    const { base, app } = await aBase();
    const starting = base.start(app, async () => {
      throw refused();
    });
    await base.stop([base.closeHttp]);
    await assert.rejects(starting, /ECONNREFUSED/);
    await assert.rejects(base.pool.query('SELECT 1'), /pool after calling end/);
  });

  it('drains: readiness says DOWN for the drain delay before HTTP closes, and the steps run in the order given', async () => {
    const { base, app, api } = await aBase({ SHUTDOWN_DRAIN_DELAY_MS: '1000' });
    await base.start(app, async () => {});
    const ran: string[] = [];
    const stopping = base.stop([
      base.drain,
      base.closeHttp,
      { name: 'a worker', run: async () => void ran.push('a worker') },
    ]);
    await waitFor(async () => (await api.get('/actuator/health')).status === 503, {
      what: 'readiness to say DOWN while draining',
    });
    assert.equal((await api.get('/actuator/health')).body.draining, true);
    await stopping;
    assert.deepEqual(ran, ['a worker']);
    await assert.rejects(api.get('/actuator/health/liveness'));
  });
});
