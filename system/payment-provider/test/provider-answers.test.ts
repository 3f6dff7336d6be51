import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { waitFor } from '@reservex/kit/testing';
import { startTestProvider, type TestProvider } from './provider-fixture.ts';

/** The provider's HTTP answers, from the real provider and its own database. */
describe('the provider’s answers (real provider and PostgreSQL)', () => {
  let provider: TestProvider;
  before(async function () {
    this.timeout(30_000);
    provider = await startTestProvider();
  });
  after(async () => provider?.stop());
  afterEach(async () => provider.setFaults({}));

  async function call(method: 'GET' | 'POST', path: string, body?: unknown) {
    const res = await fetch(`${provider.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${provider.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  const charge = (key: string) =>
    call('POST', '/v1/charges', { idempotencyKey: key, amount: 5000, currency: 'KRW' });
  const lookup = (key: string) => call('GET', `/v1/charges/${encodeURIComponent(key)}`);
  const voidKey = (key: string) => call('POST', `/v1/charges/${encodeURIComponent(key)}/void`);

  it('a capture is answered with its own time, the ledger entry’s, by the charge, its replay, a lookup and a void', async () => {
    const key = `charge:${randomUUID()}`;
    const first = await charge(key);
    assert.equal(first.status, 200);
    const { rows } = await provider.db.query(
      `SELECT l.recorded_at, c.decided_at FROM ledger_entries l JOIN charges c ON c.idempotency_key = l.charge_key
       WHERE l.key = $1 AND l.kind = 'capture'`,
      [key],
    );
    const recordedAt = (rows[0].recorded_at as Date).toISOString();
    assert.equal((rows[0].decided_at as Date).toISOString(), recordedAt);
    assert.deepEqual(first.body, {
      status: 'captured',
      amount: 5000,
      currency: 'KRW',
      capturedAt: recordedAt,
    });
    // Asked again, later: still the time of the capture, never the time of the question.
    assert.deepEqual(await charge(key), first);
    assert.deepEqual(await lookup(key), first);
    assert.deepEqual(await voidKey(key), { status: 409, body: first.body });
  });

  it('a decline, a void and a charge still pending are answered without a capture time', async () => {
    await provider.setFaults({ failureRate: 1 });
    const declined = `charge:${randomUUID()}`;
    const answer = await charge(declined);
    assert.equal(answer.status, 402);
    assert.equal(answer.body.capturedAt, undefined);
    assert.equal((await lookup(declined)).body.capturedAt, undefined);

    const voided = `charge:${randomUUID()}`;
    assert.deepEqual(await voidKey(voided), { status: 200, body: { status: 'voided' } });
    assert.deepEqual(await lookup(voided), { status: 200, body: { status: 'voided' } });

    await provider.setFaults({ latencyMs: { min: 1000, max: 1000 } });
    const pending = `charge:${randomUUID()}`;
    const inFlight = charge(pending);
    await waitFor(async () => (await provider.chargeStatus(pending)) === 'pending', {
      what: 'the charge to be under way',
    });
    assert.deepEqual(await lookup(pending), { status: 200, body: { status: 'pending' } });
    assert.equal((await inFlight).status, 200);
  });
});
