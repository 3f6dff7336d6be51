import { z } from 'zod';
import { faultProfileSchema } from '../domain/fault-profile.ts';

export function paymentOpenApi() {
  const faults = z.toJSONSchema(faultProfileSchema, { io: 'input' });
  return {
    openapi: '3.1.0',
    info: { title: 'ReserveX payment-service', version: '1.0.0' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths: {
      '/api/payments': {
        get: {
          security: [{ bearer: [] }],
          parameters: [
            {
              name: 'reservationId',
              in: 'query',
              required: true,
              schema: { type: 'string', format: 'uuid' },
            },
          ],
          responses: {
            200: {
              description:
                'Payments of the reservation: CAPTURED, FAILED or REFUNDED (PROCESSING while charging)',
            },
          },
        },
      },
      '/api/admin/faults': {
        get: {
          security: [{ bearer: [] }],
          responses: { 200: { description: 'The fault profile in force' } },
        },
        put: {
          security: [{ bearer: [] }],
          requestBody: { required: true, content: { 'application/json': { schema: faults } } },
          responses: {
            200: { description: 'The new profile' },
            400: { description: 'Invalid profile' },
            403: { description: 'Not an admin' },
          },
        },
      },
    },
  };
}
