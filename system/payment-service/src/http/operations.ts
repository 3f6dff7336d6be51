import { faultChangeSchema, faultProfileSchema } from '@reservex/contracts';
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
  refundRefusal: z.string().optional(),
});

/** Every operation payment-service serves: the OpenAPI document is built from this list, and a test holds the routes to it. */
export const PAYMENT_OPERATIONS: OperationSpec[] = [
  {
    method: 'get',
    path: '/api/payments',
    operationId: 'listPayments',
    summary: "A reservation's payments (the caller's own, or any for an admin)",
    description:
      "CAPTURED, FAILED, REFUNDING or REFUNDED; PROCESSING while charging, IN_DOUBT while the provider's answer is being found out; REFUND_REFUSED (with `refundRefusal`) when the provider refused the refund for good, left to an operator. A reservation with no payment yet gives an empty list.",
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
    responses: { 200: { description: 'The profile', schema: faultProfileSchema } },
  },
  {
    method: 'put',
    path: '/api/admin/payment-faults',
    operationId: 'setPaymentFaults',
    summary: "Replace the payment provider's fault profile, or start an outage of `outageSeconds`",
    description:
      "Validated here against the provider's own schema (system/contracts), then passed on to the provider (PUT /v1/faults with the merchant key, which only payment-service holds).",
    tag: 'faults',
    caller: 'admin',
    body: faultChangeSchema,
    bodyExample: { failureRate: 0.2, latencyMs: { min: 20, max: 120 } },
    responses: {
      200: { description: 'The profile now in force', schema: faultProfileSchema },
      422: {
        description: 'The charge (or refund) fault rates add up to more than 1, or latencyMs.min exceeds max',
      },
    },
  },
];

export function paymentOpenApi() {
  return openApiDocument(
    {
      title: 'ReserveX payment-service',
      version: '1.0.0',
      description:
        "Payments of the booking saga, read-only (payments move through the saga, over Kafka), and, for admins, the payment provider's fault profile.",
    },
    [...PAYMENT_OPERATIONS, ...PLATFORM_OPERATIONS],
  );
}
