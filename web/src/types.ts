/** The API's answers as the page reads them (the services' OpenAPI documents are the reference). */
export interface EventSummary {
  id: string;
  name: string;
  venue: string;
  startsAt: string;
  salesOpenAt: string;
  holdSeconds: number;
  maxSeatsPerUser: number;
  currency: string;
  capacity?: number;
  seatsLeft?: number;
  sections?: Array<{
    name: string;
    price: number;
    capacity?: number;
    seatsLeft?: number;
    available?: number;
  }>;
  queue?: { opensAt: string; admitPerSecond: number; maxActive: number } | null;
}

export interface Seat {
  id: string;
  section: string;
  row: string;
  number: number;
  price: number;
  status: 'AVAILABLE' | 'HELD' | 'SOLD';
}

export interface QueueStatus {
  state: 'waiting' | 'admitted' | 'expired';
  position: number | null;
  etaSeconds: number | null;
  pollAfterSeconds?: number;
  soldOut?: boolean;
  admissionToken?: string;
  admissionExpiresAt?: string;
  admissionLapsesAt?: string;
  /** On the stream: the organiser paused admissions (the place is kept). */
  paused?: boolean;
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

export interface Reservation {
  id: string;
  eventId: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED' | 'EXPIRED';
  reason?: 'payment-failed' | 'expired' | 'user-cancelled';
  paymentFailure?: string;
  seats: Array<Omit<Seat, 'status'>>;
  amount: number;
  currency: string;
  expiresAt: string;
  createdAt: string;
  confirmedAt?: string;
  endedAt?: string;
  refundedAt?: string;
}
