import assert from 'node:assert/strict';
import { en, Faker } from '@faker-js/faker';
import { type RunningAccountService, startAccountService } from '@reservex/account-service/testing';
import { accessTokenVerifier, remoteKeySet } from '@reservex/kit';
import { defaultTargets, type Targets } from '@reservex/stack';
import { seedFanAccounts } from '../src/fans/fan-accounts.ts';
import { httpClient } from '../src/fans/http-client.ts';
import { adminToken, MintSessionsError, mintSessions } from '../src/fans/sign-in.ts';
import { Recorder } from '../src/run/recorder.ts';

function targetsOf(svc: RunningAccountService): Targets {
  return {
    ...defaultTargets(process.env),
    account: svc.url,
    accountDb: svc.db.url,
    adminEmail: svc.config.ADMIN_EMAIL,
    adminPassword: svc.config.ADMIN_PASSWORD,
  };
}

describe('fans’ sessions minted in bulk (mintSessions) against a real account-service', () => {
  it('fills every fan’s access token, in batches, with a token of that fan’s own account that the JWKS verifies', async () => {
    const svc = await startAccountService({ BULK_SESSIONS_ENABLED: 'true' });
    const http = httpClient(new Recorder(1), 8);
    try {
      const targets = targetsOf(svc);
      // More than two batches of 500, the last one partly filled.
      const fans = await seedFanAccounts(svc.db.url, 1234, 'mint', new Faker({ locale: [en] }), 7);
      await mintSessions(http, targets, await adminToken(targets, http), fans, { inFlight: 2 });
      const verify = accessTokenVerifier(remoteKeySet(`${svc.url}/.well-known/jwks.json`));
      for (const fan of fans) {
        assert.ok(fan.accessToken !== undefined, `fan ${fan.index} has no token`);
        assert.deepEqual(await verify(fan.accessToken), {
          userId: fan.userId,
          email: fan.email,
          roles: ['user'],
        });
      }
    } finally {
      await http.close();
      await svc.stop();
    }
  });

  it('fails, saying how to switch the path on, against an account-service that has it off', async () => {
    const svc = await startAccountService();
    const http = httpClient(new Recorder(1), 2);
    try {
      const targets = targetsOf(svc);
      const fans = await seedFanAccounts(svc.db.url, 3, 'off', new Faker({ locale: [en] }), 7);
      await assert.rejects(
        mintSessions(http, targets, await adminToken(targets, http), fans),
        (error: unknown) => {
          assert.ok(error instanceof MintSessionsError);
          assert.equal(error.status, 404);
          assert.match(error.message, /BULK_SESSIONS_ENABLED=true/);
          return true;
        },
      );
      assert.ok(fans.every((fan) => fan.accessToken === undefined));
    } finally {
      await http.close();
      await svc.stop();
    }
  });
});
