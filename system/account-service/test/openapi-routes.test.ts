import assert from 'node:assert/strict';
import { assertSoundOpenApi, documentedRoutes, notCalled, servedRoutes } from '@reservex/kit/testing';
import { accountRoutes } from '../src/http/account-routes.ts';
import { ACCOUNT_OPERATIONS, accountOpenApi } from '../src/http/operations.ts';

describe('account-service: the OpenAPI document against the routes', () => {
  it('documents every route it serves, and serves every route it documents', () => {
    const served = servedRoutes(accountRoutes(notCalled, notCalled, notCalled, notCalled));
    assert.deepEqual(served, documentedRoutes(ACCOUNT_OPERATIONS));
  });

  it('declares every path parameter, a security requirement, and no catch-all response', () => {
    assertSoundOpenApi(accountOpenApi());
  });
});
