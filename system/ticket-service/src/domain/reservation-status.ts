import type { CancellationReason } from '@reservex/contracts';

export const RESERVATION_STATUSES = ['PENDING', 'CONFIRMED', 'CANCELLED', 'EXPIRED'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

export const RESERVATION_TRANSITIONS = ['confirm', 'fail-payment', 'expire', 'cancel'] as const;
export type ReservationTransition = (typeof RESERVATION_TRANSITIONS)[number];

/** What a transition does to the reservation's seats. */
export type SeatEffect = 'sell' | 'release';

export interface Edge {
  to: ReservationStatus;
  seats: SeatEffect;
  /** Every edge but confirm ends the reservation and says why, on the saga.reservation.cancelled message. */
  reason?: CancellationReason;
}

/**
 * The reservation state machine: every change of status goes through this table, and nothing else writes status.
 *
 *   PENDING --confirm--> CONFIRMED --cancel--> CANCELLED (refund)
 *   PENDING --fail-payment | cancel--> CANCELLED
 *   PENDING --expire--> EXPIRED
 */
const TRANSITIONS: Record<ReservationStatus, Partial<Record<ReservationTransition, Edge>>> = {
  PENDING: {
    confirm: { to: 'CONFIRMED', seats: 'sell' },
    'fail-payment': { to: 'CANCELLED', seats: 'release', reason: 'payment-failed' },
    expire: { to: 'EXPIRED', seats: 'release', reason: 'expired' },
    cancel: { to: 'CANCELLED', seats: 'release', reason: 'user-cancelled' },
  },
  CONFIRMED: {
    cancel: { to: 'CANCELLED', seats: 'release', reason: 'user-cancelled' },
  },
  CANCELLED: {},
  EXPIRED: {},
};

export function transitionEdge(from: ReservationStatus, transition: ReservationTransition): Edge | undefined {
  return TRANSITIONS[from][transition];
}
