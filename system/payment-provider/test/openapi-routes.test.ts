import assert from 'node:assert/strict';
import { assertSoundOpenApi, documentedRoutes, notCalled, servedRoutes } from '@reservex/kit/testing';
import { PROVIDER_OPERATIONS, providerOpenApi } from '../src/http/operations.ts';
import { providerRoutes } from '../src/http/provider-routes.ts';

describe('payment-provider: the OpenAPI document against the routes', () => {
  it('documents every route it serves, and serves every route it documents', () => {
    const served = servedRoutes(
      providerRoutes({ api: notCalled, faults: notCalled, apiKey: 'k', hangMs: 1 }),
    );
    assert.deepEqual(served, documentedRoutes(PROVIDER_OPERATIONS));
  });

  it('declares every path parameter, a security requirement, and no catch-all response', () => {
    assertSoundOpenApi(providerOpenApi());
  });
});
