import { ForbiddenProblem, NotFoundProblem, PermanentMessageError, ProblemError } from '@reservex/kit';

export class EventNotFound extends NotFoundProblem {
  constructor() {
    super('No such event');
  }
}

export class ReservationNotFound extends NotFoundProblem {
  constructor() {
    super('No such reservation');
  }
}

export class SeatUnavailable extends ProblemError {
  constructor(unavailableSeatIds: string[]) {
    super(409, 'seat-unavailable', 'Seat unavailable', 'One or more of the seats is already held or sold', {
      extensions: { unavailableSeatIds },
    });
  }
}

export class SalesNotOpen extends ProblemError {
  constructor(salesOpenAt: Date) {
    super(409, 'sales-not-open', 'Sales not open', `Sales open at ${salesOpenAt.toISOString()}`, {
      extensions: { salesOpenAt: salesOpenAt.toISOString() },
    });
  }
}

export class SeatLimitReached extends ProblemError {
  constructor(limit: number, alreadyHeld: number) {
    super(
      409,
      'seat-limit',
      'Seat limit reached',
      `At most ${limit} seats per user for this event; you hold ${alreadyHeld}`,
      {
        extensions: { limit, alreadyHeld },
      },
    );
  }
}

export class IdempotencyKeyReused extends ProblemError {
  constructor() {
    super(
      422,
      'idempotency-key-reused',
      'Idempotency-Key reused',
      'This Idempotency-Key was used for a different request',
    );
  }
}

export class NotCancellable extends ProblemError {
  constructor(status: string) {
    super(409, 'not-cancellable', 'Not cancellable', `A ${status} reservation cannot be cancelled`);
  }
}

export class EventStarted extends ProblemError {
  constructor(startsAt: Date) {
    super(
      409,
      'event-started',
      'Event started',
      `The event started at ${startsAt.toISOString()}; a confirmed booking can no longer be cancelled or refunded`,
      { extensions: { startsAt: startsAt.toISOString() } },
    );
  }
}

export class SalesClosed extends ProblemError {
  constructor(startsAt: Date) {
    super(
      409,
      'sales-closed',
      'Sales closed',
      `Sales closed when the event started at ${startsAt.toISOString()}`,
      {
        extensions: { startsAt: startsAt.toISOString() },
      },
    );
  }
}

export class AdmissionSpent extends ForbiddenProblem {
  constructor() {
    super('This admission was already used or has lapsed; join the queue again', 'admission-spent');
  }
}

/**
 * A reservation asked to sell seats it no longer holds all of: only a bug can get here. Dead-lettered at once;
 * the hold then runs out, and the payment is refunded through the saga.
 */
export class SeatsNotHeld extends PermanentMessageError {
  constructor(reservationId: string, held: number, expected: number) {
    super(`reservation ${reservationId} holds ${held} of its ${expected} seats; refusing to sell`);
    this.name = 'SeatsNotHeld';
  }
}
