import { percentile } from '../src/run/recorder.ts';

/**
 * The legs of a confirmed booking, from the timestamps each service wrote in its own database (PostgreSQL's now(),
 * the start of the transaction that wrote them; one clock, one machine):
 * - reserve: from the moment the booking was due to the reservation's transaction (HTTP, queueing, the insert);
 * - to payment: the reservation's message through the outbox relay, Kafka and payment-service's consumer;
 * - charge: the payment claimed, the gateway's answer, the capture settled;
 * - back: the capture's message through the relay, Kafka and ticket-service's consumer, to the confirmation.
 */
export const HOPS = ['reserve', 'to payment', 'charge', 'back'] as const;
export type Hop = (typeof HOPS)[number];

export interface BookingStamps {
  dueAt: number;
  reservedAt: number;
  paymentOpenedAt: number;
  capturedAt: number;
  confirmedAt: number;
}

export type HopFigures = Record<Hop, { p50: number; p99: number }>;

export function hopFigures(bookings: readonly BookingStamps[]): HopFigures {
  const legs: Record<Hop, number[]> = { reserve: [], 'to payment': [], charge: [], back: [] };
  for (const b of bookings) {
    legs.reserve.push(b.reservedAt - b.dueAt);
    legs['to payment'].push(b.paymentOpenedAt - b.reservedAt);
    legs.charge.push(b.capturedAt - b.paymentOpenedAt);
    legs.back.push(b.confirmedAt - b.capturedAt);
  }
  const figures = {} as HopFigures;
  for (const hop of HOPS) {
    const sorted = legs[hop].sort((a, b) => a - b);
    figures[hop] = { p50: Math.round(percentile(sorted, 50)), p99: Math.round(percentile(sorted, 99)) };
  }
  return figures;
}
