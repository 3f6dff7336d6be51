import { faultChangeSchema, faultProfileSchema } from '@reservex/contracts';
import { type OperationSpec, openApiDocument, PLATFORM_OPERATIONS } from '@reservex/kit';
import { z } from 'zod';

const key = z
  .string()
  .min(1)
  .max(200)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what the pattern keeps out
  .regex(/^[^\x00]*$/, 'must not contain NUL');
export const chargeBody = z.strictObject({
  idempotencyKey: key,
  amount: z.number().int().min(0),
  currency: z.string().regex(/^[A-Z]{3}$/),
});
export const refundBody = z.strictObject({
  idempotencyKey: key,
  chargeKey: key,
  amount: z.number().int().min(1),
});
export const keyParam = z.strictObject({ key });

/** A gateway's own answers are plain JSON, as a real provider's are, not problem+json. */
const answer = (description: string) => ({ description, schema: z.looseObject({}) });
const capturedAt = z.iso
  .datetime({ offset: true })
  .describe('When the provider captured the charge (the time of its ledger entry), not when it answered');
/** A capture's answer, whichever call gives it. */
const captured = (description: string) => ({
  description,
  schema: z.looseObject({
    status: z.literal('captured'),
    amount: z.number().int(),
    currency: z.string(),
    capturedAt,
  }),
});
const outage = answer('In an outage (a fault): `{"error":"unavailable","retryAfterSeconds":1}`');

/**
 * The simulated provider's API, for payment-service (the merchant). Its faults are deliberate: a lost answer
 * is a connection left hanging, a reset is a reset, and `errorAfterCaptureRate` answers 500 after capturing.
 */
export const PROVIDER_OPERATIONS: OperationSpec[] = [
  {
    method: 'post',
    path: '/v1/charges',
    operationId: 'charge',
    summary: 'Charge once per idempotency key; the same key again answers what happened the first time',
    tag: 'charges',
    caller: 'merchant',
    body: chargeBody,
    responses: {
      200: captured('Captured, with the time of the capture'),
      402: answer('Declined, with the reason'),
      409: answer('Voided, or still pending under this key'),
      422: answer('The key was used for another amount'),
      500: answer('Captured, and then the answer failed (the `errorAfterCaptureRate` fault)'),
      503: outage,
    },
  },
  {
    method: 'get',
    path: '/v1/charges/:key',
    operationId: 'lookUpCharge',
    summary: 'What became of the charge under this key',
    tag: 'charges',
    caller: 'merchant',
    params: keyParam,
    responses: {
      200: {
        description:
          'What the key holds: `captured` (with amount, currency and capturedAt), `declined` (with the reason), `voided` or `pending`',
        schema: z.looseObject({
          status: z.enum(['captured', 'declined', 'voided', 'pending']),
          capturedAt: capturedAt.optional(),
        }),
      },
      404: answer('No charge under this key: it never arrived'),
      503: outage,
    },
  },
  {
    method: 'post',
    path: '/v1/charges/:key/void',
    operationId: 'voidCharge',
    summary: 'Make sure no charge under this key will ever capture',
    tag: 'charges',
    caller: 'merchant',
    params: keyParam,
    responses: {
      200: answer('Voided (now or before), or declined already, with the reason'),
      409: captured('Captured already, with the time of the capture: refund it instead'),
      503: outage,
    },
  },
  {
    method: 'post',
    path: '/v1/refunds',
    operationId: 'refund',
    summary: 'Refund a captured charge once per idempotency key',
    tag: 'refunds',
    caller: 'merchant',
    body: refundBody,
    responses: {
      200: answer('Refunded'),
      422: answer('No captured charge under chargeKey, or another amount'),
      503: outage,
    },
  },
  {
    method: 'get',
    path: '/v1/refunds/:key',
    operationId: 'lookUpRefund',
    summary: 'Whether the refund under this key happened',
    tag: 'refunds',
    caller: 'merchant',
    params: keyParam,
    responses: { 200: answer('Refunded'), 404: answer('No refund under this key') },
  },
  {
    method: 'get',
    path: '/v1/faults',
    operationId: 'getFaults',
    summary: 'The fault profile in force',
    tag: 'faults',
    caller: 'merchant',
    responses: { 200: { description: 'The profile', schema: faultProfileSchema } },
  },
  {
    method: 'put',
    path: '/v1/faults',
    operationId: 'setFaults',
    summary: 'Replace the fault profile, or start an outage of `outageSeconds`',
    tag: 'faults',
    caller: 'merchant',
    body: faultChangeSchema,
    responses: { 200: { description: 'The profile now in force', schema: faultProfileSchema } },
  },
];

export function providerOpenApi() {
  return openApiDocument(
    {
      title: 'ReserveX simulated payment provider',
      version: '1.0.0',
      description: 'A payment gateway with its own ledger and injectable faults, for payment-service.',
    },
    [...PROVIDER_OPERATIONS, ...PLATFORM_OPERATIONS],
  );
}
