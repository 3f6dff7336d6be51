/** The saga's topics, named as in the seed. Each carries one message type. */
export const TOPICS = {
  reservationCreated: 'saga.reservation.created',
  paymentCompleted: 'saga.payment.completed',
  paymentFailed: 'saga.payment.failed',
  reservationConfirmed: 'saga.reservation.confirmed',
  reservationCancelled: 'saga.reservation.cancelled',
  paymentRefunded: 'saga.payment.refunded',
} as const;

export type Topic = (typeof TOPICS)[keyof typeof TOPICS];

export const ALL_TOPICS: readonly Topic[] = Object.values(TOPICS);

/** Where a message goes when it cannot be processed: `<topic>.dlt`. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlt`;
}

// Partitions per saga topic: messages are keyed by reservation id, so one reservation's messages stay in order.
export const SAGA_PARTITIONS = 6;
