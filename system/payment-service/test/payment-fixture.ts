import { randomUUID } from 'node:crypto';
import { TOPICS } from '@reservex/contracts';
import { deleteTopicsWithPrefix, loadConfig } from '@reservex/kit';
import {
  createTestDatabase,
  httpClient,
  sagaPublisher,
  testInfra,
  testServiceEnv,
  testTokenIssuer,
  waitFor,
} from '@reservex/kit/testing';
import { startTestProvider } from '@reservex/payment-provider/testing';
import pg from 'pg';
import { paymentConfigSchema } from '../src/config.ts';
import { createPaymentService } from '../src/service.ts';

/**
 * payment-service alone, real and in this process, against a fresh database and its own Kafka topics.
 * ticket-service's side of the saga is played by publishing its messages to Kafka.
 */
export async function startPaymentStack(options: { payment?: Record<string, string> } = {}) {
  const prefix = `p${randomUUID().slice(0, 8)}.`;
  const tokens = await testTokenIssuer();
  const db = await createTestDatabase('payment');
  const provider = await startTestProvider();
  const config = loadConfig(paymentConfigSchema, {
    ...testServiceEnv(prefix, tokens.jwksUrl, db.url),
    ...provider.paymentEnv,
    KAFKA_GROUP_ID: `${prefix}payment`,
    RECONCILE_BACKOFF_BASE_MS: '50',
    RECONCILE_BACKOFF_MAX_MS: '500',
    ...options.payment,
  });
  let service = createPaymentService(config);
  const server = await service.start();
  const paymentDb = new pg.Pool({ connectionString: db.url, max: 4 });
  // A test that stops PostgreSQL would otherwise die of this pool's idle connections.
  paymentDb.on('error', () => {});
  const api = httpClient(server.url);
  const saga = sagaPublisher(prefix);
  const publish = saga.publish;
  const adminToken = await tokens.token({ roles: ['user', 'admin'] });

  return {
    prefix,
    api,
    paymentDb,
    provider,
    adminToken,
    publish,

    /**
     * Plays ticket-service: a reservation of `amount` whose hold's deadline is in `holdSeconds`, and whose
     * settle-by instant `settleWindowSeconds` after that.
     */
    async reservationCreated(
      options: { amount?: number; holdSeconds?: number; settleWindowSeconds?: number } = {},
    ) {
      const reservationId = randomUUID();
      const data = {
        reservationId,
        eventId: randomUUID(),
        userId: randomUUID(),
        seatIds: [randomUUID()],
        amount: options.amount ?? 100_000,
        currency: 'KRW',
        expiresAt: new Date(Date.now() + (options.holdSeconds ?? 60) * 1000).toISOString(),
        settleBy: new Date(
          Date.now() + ((options.holdSeconds ?? 60) + (options.settleWindowSeconds ?? 0)) * 1000,
        ).toISOString(),
      };
      await publish(TOPICS.reservationCreated, reservationId, data);
      return data;
    },

    /** Stops payment-service (its in-flight work is cut short) and starts a fresh instance on the same database. */
    async restartService() {
      await service.stop();
      service = createPaymentService(config);
      await service.start();
    },

    /** The saga messages payment-service wrote for a reservation, oldest first. */
    async sagaMessages(reservationId: string): Promise<string[]> {
      const { rows } = await paymentDb.query('SELECT topic FROM outbox WHERE key = $1 ORDER BY id', [
        reservationId,
      ]);
      return rows.map((r) => r.topic);
    },

    async waitForPayment(reservationId: string, status: string, timeoutMs = 15_000) {
      return waitFor(
        async () => {
          const { rows } = await paymentDb.query('SELECT * FROM payments WHERE reservation_id = $1', [
            reservationId,
          ]);
          return rows[0]?.status === status ? rows[0] : undefined;
        },
        { timeoutMs, what: `payment of ${reservationId} to become ${status}` },
      );
    },

    async stop() {
      await service.stop();
      await provider.stop();
      await saga.close();
      await paymentDb.end();
      await tokens.close();
      await db.drop();
      await deleteTopicsWithPrefix(testInfra().kafkaBrokers.split(','), prefix);
    },
  };
}

export type PaymentStack = Awaited<ReturnType<typeof startPaymentStack>>;
