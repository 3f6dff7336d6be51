import { z } from 'zod';

// The payment provider's fault profile: its API's schema (system/payment-provider, PUT /v1/faults), shared with
// payment-service, which passes an admin's change on (GET/PUT /api/admin/payment-faults), and with the harness.
const rate = z.number().min(0).max(1);

/**
 * How the provider misbehaves, as real card acquirers do. Each charge draws one fate the first time its
 * idempotency key is seen; a retry with the same key gets what the first attempt recorded.
 */
export const faultProfileSchema = z
  .strictObject({
    /** Declined, with one of the usual reasons. */
    failureRate: rate,
    /** The request is lost before any charge: the caller times out, and no money moved. */
    timeoutRate: rate.default(0),
    /** Captured, then the answer never comes: the caller times out not knowing that money moved. */
    timeoutAfterCaptureRate: rate.default(0),
    /** Captured, then the connection is reset. */
    resetAfterCaptureRate: rate.default(0),
    /** Captured, then 500. */
    errorAfterCaptureRate: rate.default(0),
    /** Captured, but the answer comes after `slowMs`: past the caller's deadline. */
    slowRate: rate.default(0),
    slowMs: z.number().int().min(0).max(120_000).default(8000),
    latencyMs: z.strictObject({
      min: z.number().int().min(0).max(60_000),
      max: z.number().int().min(0).max(60_000),
    }),
    /** Until then, every call gets a fast 503 (set with `outageSeconds` through the API). */
    outageUntil: z.iso.datetime({ offset: true }).nullable().default(null),
    /** A refund lost before it was made: the caller times out, no money went back. */
    refundTimeoutRate: rate.default(0),
    /** A refund made, then the answer never comes. */
    refundTimeoutAfterRate: rate.default(0),
  })
  .refine((p) => p.latencyMs.min <= p.latencyMs.max, {
    message: 'latencyMs.min must not exceed latencyMs.max',
    path: ['latencyMs'],
  })
  .refine(
    (p) =>
      p.failureRate +
        p.timeoutRate +
        p.timeoutAfterCaptureRate +
        p.resetAfterCaptureRate +
        p.errorAfterCaptureRate +
        p.slowRate <=
      1,
    { message: 'the charge fault rates must add up to at most 1', path: ['failureRate'] },
  )
  .refine((p) => p.refundTimeoutRate + p.refundTimeoutAfterRate <= 1, {
    message: 'the refund fault rates must add up to at most 1',
    path: ['refundTimeoutRate'],
  });

export type FaultProfile = z.infer<typeof faultProfileSchema>;

/** A change through the API: any part of the profile, and an outage given as a length. */
export const faultChangeSchema = z.union([
  faultProfileSchema,
  z.strictObject({ outageSeconds: z.number().min(0).max(3600) }),
]);
