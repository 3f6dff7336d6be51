import assert from 'node:assert/strict';
import { openApiPath } from '../src/index.ts';
import { assertSoundOpenApi, documentedRoutes, servedRoutes } from '../src/testing/index.ts';

describe('checking a service’s OpenAPI document against its routes (kit/testing)', () => {
  it('an express path is written as OpenAPI writes it', () => {
    assert.equal(openApiPath('/a/:id/b/:key'), '/a/{id}/b/{key}');
  });

  it('reads the routes an app serves from its router, and the ones a service documents from its operations', () => {
    const served = servedRoutes((app) => {
      app.get('/things/:id', (_req, res) => void res.end());
      app.delete('/things/:id', (_req, res) => void res.end());
    });
    assert.ok(served.includes('GET /things/:id') && served.includes('DELETE /things/:id'));
    const documented = documentedRoutes([
      { method: 'get', path: '/things/:id', operationId: 'getThing', summary: 's', tag: 't', responses: {} },
    ] as never);
    assert.ok(documented.includes('GET /things/:id'));
    assert.ok(!documented.includes('DELETE /things/:id'), 'an undocumented route shows as a difference');
  });

  it('refuses a document with an undeclared path parameter, an operation without security, or a catch-all response', () => {
    const op = { parameters: [{ in: 'path', name: 'id' }], security: [], responses: { 200: {} } };
    assertSoundOpenApi({ paths: { '/things/{id}': { get: op } } });
    assert.throws(
      () => assertSoundOpenApi({ paths: { '/things/{id}': { get: { ...op, parameters: [] } } } }),
      /path parameters/,
    );
    assert.throws(
      () => assertSoundOpenApi({ paths: { '/things/{id}': { get: { ...op, security: undefined } } } }),
      /security/,
    );
    assert.throws(
      () => assertSoundOpenApi({ paths: { '/things/{id}': { get: { ...op, responses: { default: {} } } } } }),
      /must be a status/,
    );
  });
});
