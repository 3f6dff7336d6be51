import { z } from 'zod';
import { newEventBody, reserveBody } from './schemas.ts';

const body = (schema: z.ZodType) => ({
  required: true,
  content: {
    'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) },
  },
});
const problem = (description: string) => ({ description, content: { 'application/problem+json': {} } });

export function ticketOpenApi() {
  return {
    openapi: '3.1.0',
    info: { title: 'ReserveX ticket-service', version: '1.0.0' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths: {
      '/api/events': {
        post: {
          security: [{ bearer: [] }],
          requestBody: body(newEventBody),
          responses: {
            201: { description: 'Created, with its seats' },
            400: problem('Invalid layout'),
            403: problem('Not an admin'),
          },
        },
        get: { responses: { 200: { description: 'Events with capacity and seat counts' } } },
      },
      '/api/events/{id}': {
        get: { responses: { 200: { description: 'One event by section' }, 404: problem('No such event') } },
      },
      '/api/events/{id}/seats': {
        get: {
          responses: {
            200: {
              description:
                'Every seat with its status; ETag and X-Seat-Map-Version give the snapshot version',
            },
            304: { description: 'Unchanged since If-None-Match' },
          },
        },
      },
      '/api/reservations': {
        post: {
          security: [{ bearer: [] }],
          parameters: [
            { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } },
          ],
          requestBody: body(reserveBody),
          responses: {
            202: { description: 'PENDING: seats held, payment under way' },
            409: problem('A seat is taken, sales are not open, or the per-user limit is reached'),
            422: problem('Idempotency-Key reused for a different request'),
          },
        },
        get: { security: [{ bearer: [] }], responses: { 200: { description: "The caller's reservations" } } },
      },
      '/api/reservations/{id}': {
        get: {
          security: [{ bearer: [] }],
          responses: { 200: { description: 'The reservation' }, 404: problem('Not found or not yours') },
        },
        delete: {
          security: [{ bearer: [] }],
          responses: {
            200: { description: 'Cancelled; a confirmed one is refunded through the saga' },
            409: problem('Already ended'),
          },
        },
      },
    },
  };
}
