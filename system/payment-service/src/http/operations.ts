import { type OperationSpec, openApiDocument, PLATFORM_OPERATIONS } from '@reservex/kit';
import { z } from 'zod';
import { PAYMENT_STATUSES } from '../domain/payment-status.ts';

export const paymentsQuery = z.strictObject({ reservationId: z.uuid() });

const time = z.iso.datetime({ offset: true });
const paymentView = z.object({
  id: z.uuid(),
  reservationId: z.uuid(),
  amount: z.number().int().min(0),
  currency: z.string().length(3),
  status: z.enum(PAYMENT_STATUSES),
  failureReason: z.string().optional(),
  createdAt: time,
  capturedAt: time.optional(),
  refundedAt: time.optional(),
});

/**
 * The provider's fault profile as payment-service passes it on: the provider validates every field (its
 * faultProfileSchema), so here only the shape of a JSON object is checked.
 */
export const faultChangeBody = z
  .looseObject({})
  .meta({ description: "The provider's fault profile, or { outageSeconds }" });
const faultProfileView = z.looseObject({ failureRate: z.number().min(0).max(1) });

/** Every operation payment-service serves: the OpenAPI document is built from this list, and a test holds the routes to it. */
export const PAYMENT_OPERATIONS: OperationSpec[] = [
  {
    method: 'get',
    path: '/api/payments',
    operationId: 'listPayments',
    summary: "A reservation's payments (the caller's own, or any for an admin)",
    description:
      "CAPTURED, FAILED, REFUNDING or REFUNDED; PROCESSING while charging, IN_DOUBT while the provider's answer is being found out. A reservation with no payment yet gives an empty list.",
    tag: 'payments',
    caller: 'user',
    query: paymentsQuery,
    responses: { 200: { description: 'The payments, oldest first', schema: z.array(paymentView) } },
  },
  {
    method: 'get',
    path: '/api/admin/payment-faults',
    operationId: 'getPaymentFaults',
    summary: "The payment provider's fault profile in force",
    tag: 'faults',
    caller: 'admin',
    responses: { 200: { description: 'The profile', schema: faultProfileView } },
  },
  {
    method: 'put',
    path: '/api/admin/payment-faults',
    operationId: 'setPaymentFaults',
    summary: "Replace the payment provider's fault profile, or start an outage of `outageSeconds`",
    description:
      'Passed on to the provider (PUT /v1/faults with the merchant key); its 400 comes back as given. The fields: failureRate, timeoutRate, timeoutAfterCaptureRate, resetAfterCaptureRate, errorAfterCaptureRate, slowRate, slowMs, latencyMs {min, max}, refundTimeoutRate, refundTimeoutAfterRate.',
    tag: 'faults',
    caller: 'admin',
    body: faultChangeBody,
    bodyExample: { failureRate: 0.2, latencyMs: { min: 20, max: 120 } },
    responses: { 200: { description: 'The profile now in force', schema: faultProfileView } },
  },
];

export function paymentOpenApi() {
  return openApiDocument(
    {
      title: 'ReserveX payment-service',
      version: '1.0.0',
      description: 'Payments of the booking saga. Read-only: payments move through the saga, over Kafka.',
    },
    [...PAYMENT_OPERATIONS, ...PLATFORM_OPERATIONS],
  );
}
