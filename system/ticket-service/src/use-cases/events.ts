import { randomUUID } from 'node:crypto';
import { type Pool, ValidationProblem, withTransaction } from '@reservex/kit';
import {
  capacityOf,
  MAX_SEATS_PER_EVENT,
  type SectionLayout,
  seatsFromLayout,
} from '../domain/event-layout.ts';
import { EventNotFound } from '../domain/ticket-errors.ts';
import { findEvent, insertEvent, listEvents, seatCounts, type TicketedEvent } from '../store/events.ts';

/** An event as an operator asks for it: everything but what the service gives it, and its seats as sections. */
export type NewEventRequest = Omit<TicketedEvent, 'id' | 'createdAt'> & { sections: SectionLayout[] };

/** Where an event sold through a waiting room gets its queue. */
export interface QueueOpener {
  open(
    eventId: string,
    settings: { opensAt: Date; salesOpenAt: Date; admitPerSecond: number; maxActive: number },
  ): Promise<void>;
}

/** Creating events with their seats, and reading them with live seat counts. */
export function eventUseCases(deps: { pool: Pool; queues: QueueOpener }) {
  const { pool, queues } = deps;
  return {
    async create(request: NewEventRequest) {
      const capacity = capacityOf(request.sections);
      if (capacity > MAX_SEATS_PER_EVENT) {
        throw new ValidationProblem(
          [{ pointer: '/sections', detail: `${capacity} seats; at most ${MAX_SEATS_PER_EVENT}` }],
          422,
        );
      }
      const names = request.sections.map((s) => s.name);
      if (new Set(names).size !== names.length) {
        throw new ValidationProblem([{ pointer: '/sections', detail: 'section names must be unique' }], 422);
      }
      const id = randomUUID();
      await withTransaction(pool, (tx) =>
        insertEvent(tx, { id, ...request }, seatsFromLayout(request.sections)),
      );
      // Eager so the first joins of a burst do not all race to configure Redis from PostgreSQL.
      if (request.queue !== undefined)
        await queues.open(id, { ...request.queue, salesOpenAt: request.salesOpenAt });
      return this.get(id);
    },

    async get(id: string) {
      const event = await findEvent(pool, id);
      if (event === undefined) throw new EventNotFound();
      const counts = await seatCounts(pool, id);
      const sections = new Map<
        string,
        { name: string; price: number; capacity: number; available: number; held: number; sold: number }
      >();
      for (const c of counts) {
        const s = sections.get(c.section) ?? {
          name: c.section,
          price: Number(c.price),
          capacity: 0,
          available: 0,
          held: 0,
          sold: 0,
        };
        s.capacity += c.n;
        if (c.status === 'AVAILABLE') s.available += c.n;
        if (c.status === 'HELD') s.held += c.n;
        if (c.status === 'SOLD') s.sold += c.n;
        sections.set(c.section, s);
      }
      const list = [...sections.values()];
      return {
        ...event,
        capacity: list.reduce((n, s) => n + s.capacity, 0),
        available: list.reduce((n, s) => n + s.available, 0),
        held: list.reduce((n, s) => n + s.held, 0),
        sold: list.reduce((n, s) => n + s.sold, 0),
        sections: list,
      };
    },

    list: (limit: number) => listEvents(pool, limit),
  };
}

export type EventUseCases = ReturnType<typeof eventUseCases>;
