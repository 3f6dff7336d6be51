import type {
  queueJoinView,
  queueStatusView,
  reservationView,
  seatMapView,
} from '@reservex/ticket-service/views';
import type { z } from 'zod';

export type { QueueStatus as SharedQueueStatus } from '@reservex/ticket-service/queue-status';

/**
 * The API's answers as the page reads them. Where ticket-service states an answer as a schema (its OpenAPI
 * document is built from it), the type is that schema's, so the page cannot drift from the API; the rest are
 * written here.
 */
export type Seat = z.infer<typeof seatMapView>[number];
/** A fan's own place, as the origin tells it (…/queue/me, the stream). */
export type QueueStatus = z.infer<typeof queueStatusView>;
/** What a join answers: the place, and the signed ticket that carries it. */
export type QueueJoin = z.infer<typeof queueJoinView>;
export type Reservation = z.infer<typeof reservationView>;

export interface EventSummary {
  id: string;
  name: string;
  venue: string;
  startsAt: string;
  salesOpenAt: string;
  holdSeconds: number;
  maxSeatsPerUser: number;
  currency: string;
  /** Seats in all, and seats still AVAILABLE (neither held nor sold). */
  capacity: number;
  available: number;
  queue?: { opensAt: string; admitPerSecond: number; maxActive: number } | null;
}

export interface QueueState {
  waiting: number;
  active?: number;
  served?: number;
  paused?: boolean;
  closed?: boolean;
  admitPerSecond?: number;
  maxActive?: number;
  admissionControl?: 'auto' | 'off';
  measuredAdmitPerSecond: number | null;
  admissionControlState: {
    rate: number;
    throughput: number;
    backlog: number;
    targetBacklog: number;
    limitedBy: string;
  } | null;
  [field: string]: unknown;
}
