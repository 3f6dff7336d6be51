export const RESERVATION_STATUSES = ['PENDING', 'CONFIRMED', 'CANCELLED', 'EXPIRED'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

export type ReservationTransition = 'confirm' | 'fail-payment' | 'expire' | 'cancel';

/** What a transition does to the reservation's seats. */
export type SeatEffect = 'sell' | 'release';

interface Edge {
  to: ReservationStatus;
  seats: SeatEffect;
  reason?: 'payment-failed' | 'expired' | 'user-cancelled';
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

export function isLive(status: ReservationStatus): boolean {
  return status === 'PENDING' || status === 'CONFIRMED';
}
