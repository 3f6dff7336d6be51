import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '@reservex/kit';
import { ticketConfigSchema } from '../src/config.ts';

describe('ticket-service configuration', () => {
  it('refuses to start in production with the development admission secret or database credentials, naming each', () => {
    assert.throws(
      () => loadConfig(ticketConfigSchema, { NODE_ENV: 'production' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /ADMISSION_TOKEN_SECRET/);
        assert.match(error.message, /DATABASE_URL/);
        return true;
      },
    );
    const config = loadConfig(ticketConfigSchema, {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://ticket:a-real-secret@db.internal:5432/ticket',
      ADMISSION_TOKEN_SECRET: 'a-real-admission-secret-of-enough-length-0123',
    });
    assert.equal(config.NODE_ENV, 'production');
  });

  it('in development the defaults still let a fresh clone start with nothing set', () => {
    assert.doesNotThrow(() => loadConfig(ticketConfigSchema, {}));
  });
});
