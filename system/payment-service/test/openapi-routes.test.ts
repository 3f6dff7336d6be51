import assert from 'node:assert/strict';
import { assertSoundOpenApi, documentedRoutes, notCalled, servedRoutes } from '@reservex/kit/testing';
import { PAYMENT_OPERATIONS, paymentOpenApi } from '../src/http/operations.ts';
import { paymentRoutes } from '../src/http/payment-routes.ts';

describe('payment-service: the OpenAPI document against the routes', () => {
  it('documents every route it serves, and serves every route it documents', () => {
    const served = servedRoutes(paymentRoutes(notCalled, notCalled, notCalled));
    assert.deepEqual(served, documentedRoutes(PAYMENT_OPERATIONS));
  });

  it('declares every path parameter, a security requirement, and no catch-all response', () => {
    assertSoundOpenApi(paymentOpenApi());
  });
});
