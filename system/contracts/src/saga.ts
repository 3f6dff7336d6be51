import { TOPICS, type Topic } from './topics.ts';

export type Participant = 'ticket-service' | 'payment-service';

export interface SagaStep {
  name: string;
  participant: Participant;
  /** What starts the step: an HTTP request, a message, or a timer. */
  trigger: Topic | `POST ${string}` | 'timer';
  /** The messages the step may emit, one per outcome. */
  emits: readonly Topic[];
  /** How the step is undone when a later one fails; absent when nothing follows it that can fail. */
  compensation?: {
    name: string;
    participant: Participant;
    trigger: Topic | 'timer' | `DELETE ${string}`;
    emits: Topic;
  };
}

/**
 * The reservation saga, one step per row, in the order a booking takes them, each with the compensation that
 * undoes it. Each participant implements its rows in one module that reads in this order:
 * system/ticket-service/src/messaging/reservation-saga.ts and system/payment-service/src/messaging/payment-saga.ts.
 * A test in each service checks that its consumer handles every message this table gives it.
 */
export const RESERVATION_SAGA: readonly SagaStep[] = [
  {
    name: 'hold the seats',
    participant: 'ticket-service',
    trigger: 'POST /api/reservations',
    emits: [TOPICS.reservationCreated],
    compensation: {
      // On a failed payment, at the end of the hold (a timer), or when the fan cancels.
      name: 'release the seats',
      participant: 'ticket-service',
      trigger: TOPICS.paymentFailed,
      emits: TOPICS.reservationCancelled,
    },
  },
  {
    name: 'charge the card',
    participant: 'payment-service',
    trigger: TOPICS.reservationCreated,
    emits: [TOPICS.paymentCompleted, TOPICS.paymentFailed],
    compensation: {
      // When the reservation ends after money moved: a late capture, or a cancelled confirmed booking.
      name: 'refund the capture',
      participant: 'payment-service',
      trigger: TOPICS.reservationCancelled,
      emits: TOPICS.paymentRefunded,
    },
  },
  {
    name: 'confirm the booking',
    participant: 'ticket-service',
    trigger: TOPICS.paymentCompleted,
    emits: [TOPICS.reservationConfirmed],
  },
  {
    name: 'record the refund',
    participant: 'ticket-service',
    trigger: TOPICS.paymentRefunded,
    emits: [],
  },
];

/** The topics a participant consumes, from the table: its consumer must handle exactly these. */
export function topicsConsumedBy(participant: Participant): Topic[] {
  const topics = new Set<Topic>();
  for (const step of RESERVATION_SAGA) {
    if (step.participant === participant && step.trigger in TOPIC_SET) topics.add(step.trigger as Topic);
    const c = step.compensation;
    if (c?.participant === participant && c.trigger in TOPIC_SET) topics.add(c.trigger as Topic);
  }
  return [...topics].sort();
}

const TOPIC_SET: Record<string, true> = Object.fromEntries(Object.values(TOPICS).map((t) => [t, true]));
