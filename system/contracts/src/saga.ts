import { TOPICS, type Topic } from './topics.ts';

export type Participant = 'ticket-service' | 'payment-service';

/** What starts a step or a compensation: a message, an HTTP request (as its route), or a timer. */
export type SagaTrigger = Topic | `${'POST' | 'DELETE'} /${string}` | 'timer';

export interface SagaStep {
  name: string;
  participant: Participant;
  /** Everything that starts the step. */
  triggers: readonly SagaTrigger[];
  /** The messages the step may emit, one per outcome. */
  emits: readonly Topic[];
  /** How the step is undone when a later one fails; absent when nothing follows it that can fail. */
  compensation?: {
    name: string;
    participant: Participant;
    /** Everything that starts the compensation: each is a way the step gets undone. */
    triggers: readonly SagaTrigger[];
    emits: Topic;
  };
}

/**
 * The reservation saga, one step per row, in the order a booking takes them, each with the compensation that
 * undoes it. Each participant implements its rows in one module that reads in this order:
 * system/ticket-service/src/messaging/reservation-saga.ts and system/payment-service/src/messaging/payment-saga.ts.
 * Tests in each service check its code against this table: its consumer handles exactly the messages the table
 * gives it, and it serves every HTTP route that starts one of its steps or compensations.
 */
export const RESERVATION_SAGA: readonly SagaStep[] = [
  {
    name: 'hold the seats',
    participant: 'ticket-service',
    triggers: ['POST /api/reservations'],
    emits: [TOPICS.reservationCreated],
    compensation: {
      name: 'release the seats',
      participant: 'ticket-service',
      // A failed payment, the end of the hold (the hold-expiry sweep), or the fan's cancellation.
      triggers: [TOPICS.paymentFailed, 'timer', 'DELETE /api/reservations/:id'],
      emits: TOPICS.reservationCancelled,
    },
  },
  {
    name: 'charge the card',
    participant: 'payment-service',
    triggers: [TOPICS.reservationCreated],
    emits: [TOPICS.paymentCompleted, TOPICS.paymentFailed],
    compensation: {
      // When the reservation ends after money moved: a late capture, or a cancelled confirmed booking.
      name: 'refund the capture',
      participant: 'payment-service',
      triggers: [TOPICS.reservationCancelled],
      emits: TOPICS.paymentRefunded,
    },
  },
  {
    name: 'confirm the booking',
    participant: 'ticket-service',
    triggers: [TOPICS.paymentCompleted],
    emits: [TOPICS.reservationConfirmed],
  },
  {
    name: 'record the refund',
    participant: 'ticket-service',
    triggers: [TOPICS.paymentRefunded],
    emits: [],
  },
];

/** Every trigger of a participant's steps and compensations, in table order. */
export function triggersOf(participant: Participant): SagaTrigger[] {
  return RESERVATION_SAGA.flatMap((step) => [
    ...(step.participant === participant ? step.triggers : []),
    ...(step.compensation?.participant === participant ? step.compensation.triggers : []),
  ]);
}

/** The topics a participant consumes, from the table: its consumer must handle exactly these. */
export function topicsConsumedBy(participant: Participant): Topic[] {
  return [...new Set(triggersOf(participant).filter(isTopic))].sort();
}

/** The HTTP routes that start a participant's steps or compensations, as `METHOD /path`: it must serve them. */
export function routesStartingSaga(participant: Participant): string[] {
  return triggersOf(participant).filter((t) => /^(POST|DELETE) \//.test(t));
}

const TOPIC_SET: ReadonlySet<string> = new Set(Object.values(TOPICS));
const isTopic = (trigger: SagaTrigger): trigger is Topic => TOPIC_SET.has(trigger);
