import assert from 'node:assert/strict';
import { assertSoundOpenApi, documentedRoutes, notCalled, servedRoutes } from '@reservex/kit/testing';
import { eventRoutes } from '../src/http/event-routes.ts';
import { TICKET_OPERATIONS, ticketOpenApi } from '../src/http/operations.ts';
import { queueRoutes } from '../src/http/queue-routes.ts';
import { reservationRoutes } from '../src/http/reservation-routes.ts';

describe('ticket-service: the OpenAPI document against the routes', () => {
  it('documents every route it serves, and serves every route it documents', () => {
    const served = servedRoutes((app) => {
      queueRoutes({ verify: notCalled, room: notCalled, updates: notCalled })(app);
      eventRoutes({ verify: notCalled, events: notCalled, seatMaps: notCalled })(app);
      reservationRoutes({ verify: notCalled, bookSeats: notCalled, reservations: notCalled })(app);
    });
    assert.deepEqual(served, documentedRoutes(TICKET_OPERATIONS));
  });

  it('declares every path parameter, a security requirement, and no catch-all response', () => {
    assertSoundOpenApi(ticketOpenApi());
  });

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
