import assert from 'node:assert/strict';
import { createHttpApp, type OperationSpec, openApiPath, PLATFORM_OPERATIONS } from '@reservex/kit';
import { testAppOptions } from '@reservex/kit/testing';
import type { Express } from 'express';
import { accountRoutes } from '../../system/account-service/src/http/account-routes.ts';
import { ACCOUNT_OPERATIONS, accountOpenApi } from '../../system/account-service/src/http/operations.ts';
import { PROVIDER_OPERATIONS, providerOpenApi } from '../../system/payment-provider/src/http/operations.ts';
import { providerRoutes } from '../../system/payment-provider/src/http/provider-routes.ts';
import { PAYMENT_OPERATIONS, paymentOpenApi } from '../../system/payment-service/src/http/operations.ts';
import { paymentRoutes } from '../../system/payment-service/src/http/payment-routes.ts';
import { eventRoutes } from '../../system/ticket-service/src/http/event-routes.ts';
import { TICKET_OPERATIONS, ticketOpenApi } from '../../system/ticket-service/src/http/operations.ts';
import { queueRoutes } from '../../system/ticket-service/src/http/queue-routes.ts';
import { reservationRoutes } from '../../system/ticket-service/src/http/reservation-routes.ts';

/** The routes an app really serves, as `METHOD /path`, read from express's router. */
function servedRoutes(routes: (app: Express) => void): string[] {
  const app = createHttpApp({ ...testAppOptions('contract-test'), routes });
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

const documented = (ops: OperationSpec[]) =>
  [...ops, ...PLATFORM_OPERATIONS].map((o) => `${o.method.toUpperCase()} ${o.path}`).sort();

// Route factories only wrap their dependencies in handlers when mounted, so none is called here.
const none = {} as never;
const services: { name: string; routes: (app: Express) => void; ops: OperationSpec[]; doc: () => object }[] =
  [
    {
      name: 'ticket-service',
      routes: (app) => {
        queueRoutes({ verify: none, room: none, updates: none })(app);
        eventRoutes({ verify: none, events: none, seatMaps: none })(app);
        reservationRoutes({ verify: none, bookSeats: none, reservations: none })(app);
      },
      ops: TICKET_OPERATIONS,
      doc: ticketOpenApi,
    },
    {
      name: 'account-service',
      routes: accountRoutes(none, none, none),
      ops: ACCOUNT_OPERATIONS,
      doc: accountOpenApi,
    },
    {
      name: 'payment-service',
      routes: paymentRoutes(none, none, none),
      ops: PAYMENT_OPERATIONS,
      doc: paymentOpenApi,
    },
    {
      name: 'payment-provider',
      routes: providerRoutes({ api: none, faults: none, apiKey: 'k', hangMs: 1 }),
      ops: PROVIDER_OPERATIONS,
      doc: providerOpenApi,
    },
  ];

describe('OpenAPI documents against the routes', () => {
  for (const s of services) {
    describe(s.name, () => {
      it('documents every route it serves, and serves every route it documents', () => {
        assert.deepEqual(servedRoutes(s.routes), documented(s.ops));
      });

      it('declares every path parameter, a security requirement, and no catch-all response', () => {
        const doc = s.doc() as {
          paths: Record<
            string,
            Record<
              string,
              {
                parameters: { in: string; name: string }[];
                security: unknown;
                responses: Record<string, unknown>;
              }
            >
          >;
        };
        for (const [path, methods] of Object.entries(doc.paths)) {
          const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
          for (const [method, op] of Object.entries(methods)) {
            const declared = op.parameters.filter((p) => p.in === 'path').map((p) => p.name);
            assert.deepEqual(declared.sort(), inPath.sort(), `${method} ${path}: path parameters`);
            assert.ok(Array.isArray(op.security), `${method} ${path}: security`);
            for (const status of Object.keys(op.responses)) {
              assert.match(
                status,
                /^[1-5]\d\d$/,
                `${method} ${path}: response ${status} must be a status, not default or 5XX`,
              );
            }
          }
        }
        assert.equal(openApiPath('/a/:id/b/:key'), '/a/{id}/b/{key}');
      });
    });
  }

  it('declares 401 on every signed-in operation and 400 on every one that takes input', () => {
    const doc = ticketOpenApi() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    assert.ok(doc.paths['/api/reservations']?.post?.responses['401']);
    assert.ok(doc.paths['/api/reservations']?.post?.responses['400']);
    assert.ok(doc.paths['/api/reservations']?.post?.responses['415']);
    assert.ok(doc.paths['/api/events']?.post?.responses['403']);
    assert.equal(doc.paths['/api/events']?.get?.responses['401'], undefined);
  });
});
