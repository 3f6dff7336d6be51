import { freeText } from '@reservex/kit';
import { z } from 'zod';

const isoDate = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

function parsedDates(...values: unknown[]): boolean {
  return values.every((v) => v instanceof Date && !Number.isNaN(v.getTime()));
}

export const newEventBody = z
  .strictObject({
    name: freeText(200),
    venue: freeText(200),
    startsAt: isoDate,
    salesOpenAt: isoDate,
    holdSeconds: z.number().int().min(1).max(3600).default(300),
    maxSeatsPerUser: z.number().int().min(1).max(20).default(4),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/)
      .default('KRW'),
    sections: z
      .array(
        z.strictObject({
          name: freeText(50),
          rows: z.number().int().min(1).max(500),
          seatsPerRow: z.number().int().min(1).max(500),
          price: z.number().int().min(0).max(100_000_000),
        }),
      )
      .min(1)
      .max(50),
    /** Sell through a waiting room: it opens at opensAt, and admits admitPerSecond up to maxActive at a time. */
    queue: z
      .strictObject({
        opensAt: isoDate,
        admitPerSecond: z.number().int().min(1).max(100_000),
        maxActive: z.number().int().min(1).max(1_000_000),
      })
      .optional(),
  })
  // Rules across fields run only once every field parsed: zod runs refinements on an object whose fields
  // failed too, and a date that did not parse is not a Date.
  .refine((e) => !parsedDates(e.salesOpenAt, e.startsAt) || e.salesOpenAt.getTime() <= e.startsAt.getTime(), {
    message: 'sales must open before the event starts',
    path: ['salesOpenAt'],
  })
  .refine(
    (e) =>
      e.queue === undefined ||
      !parsedDates(e.queue.opensAt, e.salesOpenAt) ||
      e.queue.opensAt.getTime() <= e.salesOpenAt.getTime(),
    { message: 'the waiting room must open no later than the sales', path: ['queue', 'opensAt'] },
  );

export const reserveBody = z.strictObject({
  eventId: z.uuid(),
  seatIds: z.array(z.uuid()).min(1).max(20),
});

export const idParam = z.strictObject({ id: z.uuid() });

export const listQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) });

export const idempotencyKey = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const queueChangeBody = z
  .strictObject({
    admitPerSecond: z.number().int().min(1).max(100_000).optional(),
    maxActive: z.number().int().min(1).max(1_000_000).optional(),
    paused: z.boolean().optional(),
    drain: z.boolean().optional(),
    /** 'off' admits at admitPerSecond as it stands: the admission controller no longer lowers it. */
    admissionControl: z.enum(['auto', 'off']).optional(),
  })
  .refine((b) => Object.keys(b).length > 0, {
    message: 'name at least one of admitPerSecond, maxActive, paused, drain, admissionControl',
  })
  // The same rule, said in the JSON Schema of the OpenAPI document.
  .meta({ minProperties: 1 });
