export function paymentOpenApi() {
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
                "Payments of the reservation: CAPTURED, FAILED, REFUNDING or REFUNDED; PROCESSING while charging, IN_DOUBT while the provider's answer is being found out",
            },
          },
        },
      },
    },
  };
}
