import { randomUUID } from 'node:crypto';
import { startAccountService } from '@reservex/account-service/testing';
import { deleteTopicsWithPrefix, type RunningServer } from '@reservex/kit';
import { createTestDatabase, httpClient, testInfra, waitFor } from '@reservex/kit/testing';
import { startTestProvider } from '@reservex/payment-provider/testing';
import type { PaymentService } from '@reservex/payment-service';
import { testPaymentService } from '@reservex/payment-service/testing';
import type { TicketService } from '@reservex/ticket-service';
import { testTicketService, ticketHelpers } from '@reservex/ticket-service/testing';
import pg from 'pg';

export interface SagaStackOptions {
  account?: Record<string, string>;
  payment?: Record<string, string>;
  ticket?: Record<string, string>;
  /** Leave payment-service stopped, as if it were down. */
  withoutPayment?: boolean;
}

export { anEvent, type Section } from '@reservex/ticket-service/testing';

/**
 * account-, ticket- and payment-service, each real and in this process, with fresh databases and their own
 * Kafka topics (a random prefix), so stacks never see each other's messages.
 */
export async function startSagaStack(options: SagaStackOptions = {}) {
  const prefix = `t${randomUUID().slice(0, 8)}.`;
  const infra = testInfra();
  const account = await startAccountService({
    LOGIN_LIMIT_PER_IP: '100000',
    LOGIN_LIMIT_PER_ACCOUNT: '1000',
    ...options.account,
  });
  const ticketDb = await createTestDatabase('ticket');
  const paymentDb = await createTestDatabase('payment');
  const provider = await startTestProvider();
  const common = {
    KAFKA_BROKERS: infra.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: prefix,
    ACCOUNT_JWKS_URL: `${account.url}/.well-known/jwks.json`,
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SHUTDOWN_GRACE_MS: '3000',
  };
  const ticketService: TicketService = testTicketService(prefix, {
    ...common,
    DATABASE_URL: ticketDb.url,
    HOLD_SETTLE_WINDOW_SECONDS: '1',
    ...options.ticket,
  });
  const ticketServer = await ticketService.start();

  const paymentEnv = (overrides: Record<string, string> = {}) => ({
    ...common,
    DATABASE_URL: paymentDb.url,
    KAFKA_GROUP_ID: `${prefix}payment`,
    ...provider.paymentEnv,
    RECONCILE_BACKOFF_BASE_MS: '50',
    RECONCILE_BACKOFF_MAX_MS: '500',
    ...options.payment,
    ...overrides,
  });
  let paymentService: PaymentService | undefined;
  let paymentServer: RunningServer | undefined;
  async function startPayment(overrides: Record<string, string> = {}) {
    paymentService = testPaymentService(prefix, paymentEnv(overrides));
    paymentServer = await paymentService.start();
    return paymentServer;
  }
  async function stopPayment() {
    await paymentService?.stop();
    paymentService = undefined;
    paymentServer = undefined;
  }
  if (!options.withoutPayment) await startPayment();

  const ticketPool = new pg.Pool({ connectionString: ticketDb.url, max: 4 });
  const paymentPool = new pg.Pool({ connectionString: paymentDb.url, max: 4 });
  // A test that stops PostgreSQL would otherwise die of these pools' idle connections.
  for (const pool of [ticketPool, paymentPool]) pool.on('error', () => {});
  const ticket = httpClient(ticketServer.url);
  const adminLogin = await account.api.post('/api/auth/login', {
    body: { email: account.config.ADMIN_EMAIL, password: account.config.ADMIN_PASSWORD },
  });
  const adminToken: string = adminLogin.body.accessToken;

  let users = 0;
  const stack = {
    prefix,
    account,
    ...ticketHelpers(ticket, ticketPool, adminToken),
    paymentDb: paymentPool,
    provider,
    ticketDatabase: ticketDb,
    paymentDatabase: paymentDb,
    paymentEnv,
    adminToken,
    ticketService,
    ticketUrl: ticketServer.url,
    paymentUrl: () => paymentServer?.url,
    payment: () => (paymentServer === undefined ? undefined : httpClient(paymentServer.url)),
    startPayment,
    stopPayment,

    async newUser(): Promise<{ token: string; userId: string; email: string; password: string }> {
      users++;
      const credentials = {
        email: `fan${users}-${randomUUID().slice(0, 8)}@example.test`,
        password: 'lightstick-2026',
        name: `Fan ${users}`,
      };
      const signup = await account.api.post('/api/auth/signup', { body: credentials });
      if (signup.status !== 201)
        throw new Error(`signup failed: ${signup.status} ${JSON.stringify(signup.body)}`);
      const login = await account.api.post('/api/auth/login', {
        body: { email: credentials.email, password: credentials.password },
      });
      return { token: login.body.accessToken, userId: signup.body.id, ...credentials };
    },

    async waitForPayment(reservationId: string, status: string, timeoutMs = 15_000) {
      return waitFor(
        async () => {
          const { rows } = await paymentPool.query('SELECT * FROM payments WHERE reservation_id = $1', [
            reservationId,
          ]);
          return rows[0]?.status === status ? rows[0] : undefined;
        },
        { timeoutMs, what: `payment of ${reservationId} to become ${status}` },
      );
    },

    /** The provider's faults (system/payment-provider); anything not given is no fault. */
    setFaults: provider.setFaults,

    async stop() {
      await stopPayment();
      await ticketService.stop();
      await ticketPool.end();
      await paymentPool.end();
      await provider.stop();
      await account.stop();
      await ticketDb.drop();
      await deleteTopicsWithPrefix(infra.kafkaBrokers.split(','), prefix);
      await paymentDb.drop();
    },
  };
  return stack;
}

export type SagaStack = Awaited<ReturnType<typeof startSagaStack>>;
