import assert from 'node:assert/strict';
import type { Express } from 'express';
import { createHttpApp } from '../http-app.ts';
import { type OperationSpec, PLATFORM_OPERATIONS } from '../openapi.ts';
import { testAppOptions } from './test-app.ts';

/**
 * What a route factory is given for a dependency it only wraps in handlers when mounted: a test that reads the
 * routes never calls it.
 */
export const notCalled = {} as never;

/** The routes an app really serves, as `METHOD /path`, read from express's router. */
export function servedRoutes(routes: (app: Express) => void): string[] {
  const app = createHttpApp({ ...testAppOptions('routes-test'), routes });
  const layers = app.router.stack as unknown as {
    route?: { path: string; methods: Record<string, boolean> };
  }[];
  return layers
    .flatMap((l) =>
      l.route === undefined
        ? []
        : Object.keys(l.route.methods).map((m) => `${m.toUpperCase()} ${l.route?.path}`),
    )
    .sort();
}

/** The routes a service documents, its own operations and the platform's, as `METHOD /path`. */
export function documentedRoutes(operations: readonly OperationSpec[]): string[] {
  return [...operations, ...PLATFORM_OPERATIONS].map((o) => `${o.method.toUpperCase()} ${o.path}`).sort();
}

interface OpenApiPaths {
  paths: Record<
    string,
    Record<
      string,
      { parameters: { in: string; name: string }[]; security: unknown; responses: Record<string, unknown> }
    >
  >;
}

/**
 * A service's OpenAPI document declares every path parameter of every operation, a security requirement on each
 * (an empty one for a public route), and only real statuses as responses: no `default`, no `5XX`.
 */
export function assertSoundOpenApi(document: object): void {
  for (const [path, methods] of Object.entries((document as OpenApiPaths).paths)) {
    const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries(methods)) {
      const declared = op.parameters.filter((p) => p.in === 'path').map((p) => p.name);
      assert.deepEqual(declared.sort(), inPath.sort(), `${method} ${path}: path parameters`);
      assert.ok(Array.isArray(op.security), `${method} ${path}: security`);
      for (const status of Object.keys(op.responses))
        assert.match(
          status,
          /^[1-5]\d\d$/,
          `${method} ${path}: response ${status} must be a status, not default or 5XX`,
        );
    }
  }
}
