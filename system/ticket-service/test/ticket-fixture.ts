import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createLogger, createTracing, loadConfig, tracingConfigSchema } from '@reservex/kit';
import {
  deliverTo,
  type HttpClient,
  httpClient,
  migratedTestDatabase,
  singleServiceStack,
  testInfra,
  waitFor,
} from '@reservex/kit/testing';
import type pg from 'pg';
import { ticketConfigSchema } from '../src/config.ts';
import { reservationSaga } from '../src/messaging/reservation-saga.ts';
import { createTicketService, type TicketService } from '../src/service.ts';
import { bookSeats } from '../src/use-cases/book-seats.ts';
import { eventUseCases } from '../src/use-cases/events.ts';
import { reservationUseCases } from '../src/use-cases/reservations.ts';
import { HoldExpiry } from '../src/workers/hold-expiry.ts';

export interface Section {
  name: string;
  rows: number;
  seatsPerRow: number;
  price: number;
}

/** A short builder for events: anEvent({ seats: 10 }) is one section of ten seats at ₩100,000, on sale now. */
export function anEvent(
  options: {
    seats?: number;
    holdSeconds?: number;
    maxSeatsPerUser?: number;
    sections?: Section[];
    salesOpenAt?: Date;
  } = {},
) {
  const now = Date.now();
  return {
    name: `Flash sale ${randomUUID().slice(0, 6)}`,
    venue: 'Olympic Hall',
    startsAt: new Date(now + 30 * 86_400_000).toISOString(),
    salesOpenAt: (options.salesOpenAt ?? new Date(now - 1000)).toISOString(),
    holdSeconds: options.holdSeconds ?? 60,
    maxSeatsPerUser: options.maxSeatsPerUser ?? 4,
    sections: options.sections ?? [{ name: 'R', rows: 1, seatsPerRow: options.seats ?? 10, price: 100_000 }],
  };
}

/**
 * ticket-service alone, real and in this process, against a fresh database, a private Redis key prefix and its own
 * Kafka topics. Tokens come from a stand-in for account-service's signing key; payment-service's side of the saga
 * is played by publishing its messages to Kafka.
 */
/**
 * A ticket-service for a test, not started: the test's variables over defaults that suit tests (the hold sweep
 * every 100 ms, no seat-map cache, joins never giving way, Redis keys and a consumer group of the test's own, under `prefix`).
 */
export function testTicketService(prefix: string, env: Record<string, string>): TicketService {
  return createTicketService(
    loadConfig(ticketConfigSchema, {
      REDIS_URL: testInfra().redisUrl,
      REDIS_KEY_PREFIX: `test:${prefix}`,
      KAFKA_GROUP_ID: `${prefix}ticket`,
      HOLD_EXPIRY_INTERVAL_MS: '100',
      SEAT_MAP_CACHE_MS: '0',
      // The test's stacks share one event loop with the test and each other: joins giving way to a loop that other
      // tests keep busy would make them fail at random. join-yield.test.ts turns it on for itself.
      JOIN_YIELD_UTILISATION: '1',
      ...env,
    }),
  );
}

export async function startTicketStack(options: { ticket?: Record<string, string> } = {}) {
  const around = await singleServiceStack('ticket');
  const { prefix, tokens, adminToken } = around;
  const service = testTicketService(prefix, { ...around.env, ...options.ticket });
  const server = await service.start();

  return {
    prefix,
    ticketUrl: server.url,
    ticketService: service,
    adminToken,
    newUser: () => tokens.user(),
    /** Plays payment-service: puts one of its saga messages on this stack's topic, as its outbox relay would. */
    publish: around.publish,
    ...ticketHelpers(httpClient(server.url), around.pool, adminToken),

    async stop() {
      await service.stop();
      await around.close();
    },
  };
}

export type TicketStack = Awaited<ReturnType<typeof startTicketStack>>;

/** What tests do with a running ticket-service, whoever started it: create events, reserve, wait, count seats. */
export function ticketHelpers(ticket: HttpClient, ticketDb: pg.Pool, adminToken: string) {
  return {
    ticket,
    ticketDb,

    async createEvent(
      layout: ReturnType<typeof anEvent> & {
        queue?: { opensAt: string; admitPerSecond: number; maxActive: number };
      } = anEvent(),
    ): Promise<{
      id: string;
      seatIds: string[];
      body: { id: string; name: string; capacity: number; available: number };
    }> {
      const res = await ticket.post('/api/events', { token: adminToken, body: layout });
      if (res.status !== 201) throw new Error(`createEvent: ${res.status} ${JSON.stringify(res.body)}`);
      const seats = await ticket.get(`/api/events/${res.body.id}/seats`);
      return { id: res.body.id, seatIds: seats.body.map((s: { id: string }) => s.id), body: res.body };
    },

    reserve(token: string, eventId: string, seatIds: string[], headers: Record<string, string> = {}) {
      return ticket.post('/api/reservations', { token, body: { eventId, seatIds }, headers });
    },

    async waitForReservation(id: string, status: string, timeoutMs = 15_000) {
      return waitFor(
        async () => {
          const { rows } = await ticketDb.query('SELECT * FROM reservations WHERE id = $1', [id]);
          return rows[0]?.status === status ? rows[0] : undefined;
        },
        { timeoutMs, what: `reservation ${id} to become ${status}` },
      );
    },

    async seatStatuses(eventId: string): Promise<Record<string, number>> {
      const { rows } = await ticketDb.query(
        'SELECT status, count(*)::int AS n FROM seats WHERE event_id = $1 GROUP BY status',
        [eventId],
      );
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    },
  };
}

/** Joins the queue and waits until admitted; returns the admission token. */
export async function admissionFor(
  stack: Pick<TicketStack, 'ticket'>,
  token: string,
  eventId: string,
): Promise<string> {
  const join = await stack.ticket.post(`/api/events/${eventId}/queue`, { token });
  assert.equal(join.status, 201, JSON.stringify(join.body));
  const me = await waitFor(
    async () => {
      const r = await stack.ticket.get(`/api/events/${eventId}/queue/me`, { token });
      return r.body.state === 'admitted' ? r : undefined;
    },
    { what: 'admission' },
  );
  assert.ok(Number(me.headers.get('retry-after')) >= 1);
  return me.body.admissionToken as string;
}

/**
 * ticket-service's saga on a database of its own, migrated, with nothing running: the test takes each step
 * itself. Nothing waits: holds end as soon as they are due (no settle window, nothing awaited from the log), every
 * fan is admitted, and nothing is published (the test reads the outbox). `deliver` applies a message as the
 * consumer would.
 */
export async function ticketSagaByHand(label: string) {
  const db = await migratedTestDatabase(label, join(import.meta.dirname, '..', 'migrations'), 5);
  const { pool } = db;
  const logger = createLogger(label, 'silent');
  const nobody = { wake() {} };
  const stages = { reached() {} };
  return {
    ...db,
    deliver: deliverTo(pool, reservationSaga({ stages })),
    events: eventUseCases({ pool, queues: { open: async () => {} } }),
    bookSeats: bookSeats({
      pool,
      room: { admit: async () => undefined, freeSlot: async () => true },
      relay: nobody,
      stages,
      logger,
      settleWindowSeconds: 0,
    }),
    reservations: reservationUseCases({ pool, relay: nobody, stages }),
    holdExpiry: new HoldExpiry({
      pool,
      logger,
      tracer: createTracing(label, tracingConfigSchema.parse({})).tracer,
      intervalMs: 1000,
      stages,
      relay: nobody,
      resultsConsumedThrough: () => Date.now(),
      publishGraceMs: 0,
      maxExtensionSeconds: 0,
    }),
  };
}

export type TicketSagaByHand = Awaited<ReturnType<typeof ticketSagaByHand>>;
