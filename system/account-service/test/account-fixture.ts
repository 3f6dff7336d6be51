import { randomUUID } from 'node:crypto';
import { loadConfig } from '@reservex/kit';
import {
  createTestDatabase,
  type HttpClient,
  httpClient,
  type TestDatabase,
  testInfra,
} from '@reservex/kit/testing';
import { type AccountConfig, accountConfigSchema } from '../src/config.ts';
import { createAccountService } from '../src/service.ts';

export interface RunningAccountService {
  api: HttpClient;
  url: string;
  config: AccountConfig;
  db: TestDatabase;
  stop(): Promise<void>;
}

/** A real account service on a random port, against its own fresh database and a private Redis key prefix. */
export async function startAccountService(
  overrides: Record<string, string> = {},
): Promise<RunningAccountService> {
  const db = await createTestDatabase('account');
  const config = loadConfig(accountConfigSchema, {
    DATABASE_URL: db.url,
    REDIS_URL: testInfra().redisUrl,
    REDIS_KEY_PREFIX: `test:${randomUUID()}:`,
    PORT: '0',
    LOG_LEVEL: 'silent',
    PASSWORD_SCRYPT_LOG2N: '12',
    // Test stacks sign every user up from 127.0.0.1.
    SIGNUP_LIMIT_PER_IP: '1000000',
    PASSWORD_HASH_QUEUE: '10000',
    ...overrides,
  });
  const service = createAccountService(config);
  const server = await service.start();
  return {
    api: httpClient(server.url),
    url: server.url,
    config,
    db,
    async stop() {
      await service.stop();
      await db.drop();
    },
  };
}

let sequence = 0;
export function aUser(overrides: Partial<{ email: string; password: string; name: string }> = {}) {
  sequence++;
  return {
    email: `user${sequence}-${randomUUID().slice(0, 6)}@example.test`,
    password: 'correct horse battery',
    name: `User ${sequence}`,
    ...overrides,
  };
}

/** A distinct client address per test, so rate-limit counters never leak between tests. */
export function anIp(): string {
  const n = Math.floor(Math.random() * 2 ** 24);
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}
