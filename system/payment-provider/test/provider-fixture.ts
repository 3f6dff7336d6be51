import type { FaultProfile } from '@reservex/contracts';
import { loadConfig, type RunningServer } from '@reservex/kit';
import { createTestDatabase } from '@reservex/kit/testing';
import pg from 'pg';
import { providerConfigSchema } from '../src/config.ts';
import { createPaymentProvider, type PaymentProvider } from '../src/service.ts';

/** Money the provider moved under one charge key, from its own ledger. */
export interface MoneyMoved {
  captured: number;
  refunded: number;
  captures: number;
  refunds: number;
}

/**
 * The simulated provider, real and in this process, with a fresh database of its own: what payment-service
 * tests pay through. It answers at once and never fails until a test sets faults.
 */
export async function startTestProvider(env: Record<string, string> = {}) {
  const database = await createTestDatabase('provider');
  const config = loadConfig(providerConfigSchema, {
    DATABASE_URL: database.url,
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SHUTDOWN_GRACE_MS: '2000',
    PROVIDER_FAILURE_RATE: '0',
    PROVIDER_LATENCY_MIN_MS: '0',
    PROVIDER_LATENCY_MAX_MS: '5',
    PROVIDER_HANG_MS: '5000',
    ...env,
  });
  let provider: PaymentProvider | undefined = createPaymentProvider(config);
  let server: RunningServer = await provider.start();
  const port = new URL(server.url).port;
  const db = new pg.Pool({ connectionString: database.url, max: 3 });
  db.on('error', () => {});
  const authorization = `Bearer ${config.PROVIDER_API_KEY}`;

  async function put(body: unknown) {
    const res = await fetch(`${server.url}/v1/faults`, {
      method: 'PUT',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`setting provider faults: ${res.status} ${await res.text()}`);
  }

  return {
    url: server.url,
    apiKey: config.PROVIDER_API_KEY,
    db,
    /** Its database, for what reads the provider's books directly (the harness's invariant checker). */
    databaseUrl: database.url,
    /** What payment-service needs to pay through this provider. */
    paymentEnv: { PROVIDER_URL: server.url, PROVIDER_API_KEY: config.PROVIDER_API_KEY },

    /** Replaces the fault profile; anything not given is no fault, answering within 5 ms. */
    async setFaults(profile: Partial<Omit<FaultProfile, 'outageUntil'>>) {
      await put({ failureRate: 0, latencyMs: { min: 0, max: 5 }, ...profile });
    },

    /** Fast 503s to every call for `seconds`. */
    async outage(seconds: number) {
      await put({ outageSeconds: seconds });
    },

    async moneyMoved(chargeKey: string): Promise<MoneyMoved> {
      const { rows } = await db.query(
        `SELECT COALESCE(sum(amount) FILTER (WHERE kind = 'capture'), 0)::int AS captured,
                COALESCE(sum(amount) FILTER (WHERE kind = 'refund'), 0)::int AS refunded,
                count(*) FILTER (WHERE kind = 'capture')::int AS captures,
                count(*) FILTER (WHERE kind = 'refund')::int AS refunds
         FROM ledger_entries WHERE charge_key = $1`,
        [chargeKey],
      );
      return rows[0];
    },

    async chargeStatus(chargeKey: string): Promise<string | undefined> {
      const { rows } = await db.query('SELECT status FROM charges WHERE idempotency_key = $1', [chargeKey]);
      return rows[0]?.status;
    },

    /** Stops the provider, as if its process died; `start` brings it back on the same port and database. */
    async crash() {
      await provider?.stop();
      provider = undefined;
    },
    async start() {
      provider = createPaymentProvider({ ...config, PORT: Number(port) });
      server = await provider.start();
    },

    async stop() {
      await provider?.stop();
      await db.end();
      await database.drop();
    },
  };
}

export type TestProvider = Awaited<ReturnType<typeof startTestProvider>>;
