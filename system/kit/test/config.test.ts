import assert from 'node:assert/strict';
import { z } from 'zod';
import { baseConfigSchema, ConfigError, loadConfig, trustProxySchema } from '../src/index.ts';

describe('configuration', () => {
  const schema = baseConfigSchema.extend({ PORT: z.coerce.number().int().min(1).max(65535) });

  it('parses a valid environment into a typed object with defaults', () => {
    const config = loadConfig(schema, { DATABASE_URL: 'postgres://u:p@localhost:5432/db', PORT: '8081' });
    assert.equal(config.PORT, 8081);
    assert.deepEqual(config.KAFKA_BROKERS, ['127.0.0.1:9092']);
    assert.equal(config.LOG_LEVEL, 'info');
  });

  it('names every bad variable at once, with what was given', () => {
    assert.throws(
      () => loadConfig(schema, { PORT: 'eighty', KAFKA_BROKERS: 'localhost', LOG_LEVEL: 'loud' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const text = error.message;
        for (const variable of ['DATABASE_URL', 'PORT', 'KAFKA_BROKERS', 'LOG_LEVEL'])
          assert.match(text, new RegExp(variable));
        assert.match(text, /PORT: .*"eighty"/);
        assert.match(text, /DATABASE_URL: .*not set/);
        return true;
      },
    );
  });

  it('never echoes a secret value in its message', () => {
    const withSecret = baseConfigSchema.extend({ ADMIN_PASSWORD: z.string().min(8) });
    assert.throws(
      () => loadConfig(withSecret, { DATABASE_URL: 'postgres://localhost/db', ADMIN_PASSWORD: 'abc' }),
      (error: Error) => /ADMIN_PASSWORD: .*\(set\)/.test(error.message) && !error.message.includes('abc'),
    );
  });

  describe('TRUST_PROXY', () => {
    const parse = (raw: string) => trustProxySchema.parse(raw);

    it('takes a hop count or a list of trusted proxy addresses, as Express does', () => {
      assert.equal(parse('false'), false);
      assert.equal(parse('1'), 1);
      assert.equal(parse('2'), 2);
      assert.deepEqual(parse('loopback, 10.0.0.0/8'), ['loopback', '10.0.0.0/8']);
    });

    it('refuses "true": trusting every hop lets any client choose its own address', () => {
      const result = trustProxySchema.safeParse('true');
      assert.equal(result.success, false);
      assert.match(JSON.stringify(result.error?.issues), /hop count|trusted proxies/);
    });
  });
});
