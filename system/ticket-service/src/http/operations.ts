import { type OperationSpec, openApiDocument, PLATFORM_OPERATIONS } from '@reservex/kit';
import { z } from 'zod';
import { idempotencyKey, idParam, listQuery, newEventBody, queueChangeBody, reserveBody } from './schemas.ts';
import {
  queueJoinView,
  queueStatusView,
  reservationView,
  seatAvailabilityView,
  seatMapView,
  sharedQueueStatusView,
} from './views.ts';

const problem = (description: string) => ({ description });
const admissionToken = {
  name: 'X-Admission-Token',
  required: false,
  description:
    'The admission the waiting room gave this fan (needed for an event sold through a waiting room)',
  schema: z.string().min(1).max(4096),
};
const QUEUE_TICKET_HEADER = {
  name: 'X-Queue-Ticket',
  required: false,
  description: 'The signed place the join answered (queueTicket); without it the place is looked up',
  schema: z.string(),
};

const QUEUE_STATUS =
  'Where the caller stands: waiting (with position and ETA), admitted (with the admission token), or expired';

/** A link to another operation on what the response just created (its `id`). */
const onCreated = (operationId: string, description: string) => ({
  operationId,
  parameters: { id: '$response.body#/id' },
  description,
});

/** The conditional read of a seat map's snapshot: 304 when the caller holds this one. */
const ifNoneMatch = (what: string) => ({
  name: 'If-None-Match',
  required: false,
  description: `The ETag of the ${what} the caller holds`,
  schema: z.string(),
});

const POLL_HINT = { description: 'Seconds until the next poll is useful', schema: { type: 'integer' } };

/** Every operation ticket-service serves: the OpenAPI document is built from this list, and a test holds the routes to it. */
export const TICKET_OPERATIONS: OperationSpec[] = [
  {
    method: 'post',
    path: '/api/events',
    operationId: 'createEvent',
    summary: 'Create an event with its seat layout (and, optionally, a waiting room)',
    description:
      'Sales must open no later than the event starts, and the waiting room no later than the sales (422).',
    tag: 'events',
    caller: 'admin',
    body: newEventBody,
    bodyExample: {
      name: 'NCT 127 — Neo City',
      venue: 'KSPO Dome',
      startsAt: '2027-03-01T10:00:00Z',
      salesOpenAt: '2027-02-01T03:00:00Z',
      sections: [{ name: 'VIP', rows: 10, seatsPerRow: 20, price: 198000 }],
      queue: { opensAt: '2027-02-01T02:50:00Z', admitPerSecond: 200, maxActive: 2000 },
    },
    responses: {
      201: { description: 'Created, with its seats; Location names it' },
      422: problem(
        'A rule across fields: sales open after the event starts, the queue opens after the sales, section names repeat, or more seats than an event may have',
      ),
    },
    links: {
      201: {
        readEvent: onCreated('getEvent', 'The event just created'),
        readSeats: onCreated('getSeatMap', 'Its seat map'),
      },
    },
  },
  {
    method: 'get',
    path: '/api/events',
    operationId: 'listEvents',
    summary: 'Events, with capacity and seats left',
    tag: 'events',
    caller: 'anyone',
    query: listQuery,
    responses: {
      200: {
        description: 'The events still to start, soonest first; then those that have started, oldest first',
      },
    },
  },
  {
    method: 'get',
    path: '/api/events/:id',
    operationId: 'getEvent',
    summary: 'One event, by section',
    tag: 'events',
    caller: 'anyone',
    params: idParam,
    responses: { 200: { description: 'The event' }, 404: problem('No such event') },
  },
  {
    method: 'get',
    path: '/api/events/:id/seats',
    operationId: 'getSeatMap',
    summary: 'Every seat of an event with its status',
    description:
      'A snapshot: ETag and X-Seat-Map-Version give its version; send If-None-Match to get 304 when unchanged.',
    tag: 'events',
    caller: 'anyone',
    params: idParam,
    headers: [ifNoneMatch('snapshot')],
    responses: {
      200: { description: 'The seat map', schema: seatMapView },
      304: { description: 'Unchanged since If-None-Match' },
      404: problem('No such event'),
    },
    links: {
      200: {
        reserveFirstSeat: {
          operationId: 'reserveSeats',
          description: 'Reserve the first seat of the map',
          requestBody: { eventId: '$request.path.id', seatIds: ['$response.body#/0/id'] },
        },
      },
    },
  },
  {
    method: 'get',
    path: '/api/events/:id/seats/availability',
    operationId: 'getSeatAvailability',
    summary: "The seat map's statuses alone, one letter a seat",
    description:
      'For a client that holds the seat map: the same snapshot as GET …/seats (the same X-Seat-Map-Version), its statuses in the same order, a few bytes a seat instead of a hundred. ETag and If-None-Match as for the map.',
    tag: 'events',
    caller: 'anyone',
    params: idParam,
    headers: [ifNoneMatch('availability')],
    responses: {
      200: { description: 'The statuses', schema: seatAvailabilityView },
      304: { description: 'Unchanged since If-None-Match' },
      404: problem('No such event'),
    },
  },
  {
    method: 'post',
    path: '/api/events/:id/queue',
    operationId: 'joinQueue',
    summary: 'Join the waiting room (joining again keeps the place)',
    tag: 'waiting room',
    caller: 'user',
    params: idParam,
    description:
      'Answers the place as a signed ticket (queueTicket) the fan keeps, and where it stands. Retry-After says when to look next: at the shared status (…/queue/status, served by the edge) while far from the front, at the own place (…/queue/me with X-Queue-Ticket) near it; the fan is due back then.',
    rateLimited: true,
    responses: {
      200: {
        description: 'Already in line: the same place',
        schema: queueJoinView,
        headers: { 'Retry-After': POLL_HINT },
      },
      201: { description: 'A new place', schema: queueJoinView, headers: { 'Retry-After': POLL_HINT } },
      404: problem('No such event, or it sells without a waiting room'),
      409: problem('The waiting room has not opened yet, or takes no new joins (draining)'),
    },
    links: {
      201: {
        myPlace: {
          operationId: 'getMyQueueStatus',
          parameters: { id: '$request.path.id' },
          description: 'Poll the place',
        },
      },
    },
  },
  {
    method: 'get',
    path: '/api/events/:id/queue/status',
    operationId: 'getQueueStatus',
    summary: 'What every waiting fan needs, the same for all: cacheable, and served by the edge',
    description:
      'The serving counter, the admission rate, paused, draining, sold out, the pre-queue lottery once drawn: with the own join number (from the signed ticket) a fan works out their place, wait and next look (ticket-service exports the function, domain/queue-status.ts). Cache-Control: public, max-age=1; ETag, and 304 on If-None-Match.',
    tag: 'waiting room',
    caller: 'anyone',
    params: idParam,
    headers: [
      {
        name: 'If-None-Match',
        required: false,
        description: 'The ETag of the status the caller holds',
        schema: z.string(),
      },
    ],
    responses: {
      200: { description: 'The shared status', schema: sharedQueueStatusView },
      304: { description: 'Unchanged since If-None-Match' },
      404: problem('No such event, or it sells without a waiting room'),
    },
  },
  {
    method: 'get',
    path: '/api/events/:id/queue',
    operationId: 'getQueue',
    summary: "The waiting room's settings and counts",
    tag: 'waiting room',
    caller: 'anyone',
    params: idParam,
    responses: {
      200: { description: 'The waiting room' },
      404: problem('No such event, or no waiting room'),
    },
  },
  {
    method: 'patch',
    path: '/api/events/:id/queue',
    operationId: 'changeQueue',
    summary: 'Change the admission rate or the active cap, pause, drain, or switch the admission controller',
    description:
      'admitPerSecond is a ceiling: while admissionControl is auto, the controller admits less when the saga falls behind (docs/overload.md). GET shows its state.',
    tag: 'waiting room',
    caller: 'admin',
    params: idParam,
    body: queueChangeBody,
    bodyExample: { admitPerSecond: 300, paused: false },
    responses: {
      200: { description: 'The waiting room after the change' },
      404: problem('No such event, or no waiting room'),
      422: problem('No change named'),
    },
  },
  {
    method: 'get',
    path: '/api/events/:id/queue/me',
    operationId: 'getMyQueueStatus',
    summary: "The caller's place in the waiting room, which also says they are still there",
    description:
      'For a fan near the front (the front window): asking is a sign of life, and a fan who stops is skipped at their turn. Retry-After says when to ask again.',
    tag: 'waiting room',
    caller: 'user',
    params: idParam,
    headers: [QUEUE_TICKET_HEADER],
    responses: {
      200: {
        description: QUEUE_STATUS,
        schema: queueStatusView,
        headers: { 'Retry-After': POLL_HINT },
      },
      403: problem('The X-Queue-Ticket is not valid, or not this caller’s for this event'),
      404: problem('No such event, no waiting room, or the caller has not joined'),
    },
  },
  {
    method: 'get',
    path: '/api/events/:id/queue/stream',
    operationId: 'streamMyQueueStatus',
    summary: "The caller's place, pushed as Server-Sent Events",
    description:
      'For a fan near the front, instead of asking: events `position` (while waiting: position, etaSeconds, place, paused), `admitted` (with the admission token), `expired`; each `data` is the same JSON as getMyQueueStatus. An open stream is a sign of life. A comment line every 15 s keeps it open; `retry: 3000`.',
    tag: 'waiting room',
    caller: 'user',
    params: idParam,
    headers: [QUEUE_TICKET_HEADER],
    responses: {
      200: {
        description: 'A stream of position, admitted and expired events',
        mediaType: 'text/event-stream',
      },
      403: problem('The X-Queue-Ticket is not valid, or not this caller’s for this event'),
      404: problem('No such event, no waiting room, or the caller has not joined'),
    },
  },
  {
    method: 'post',
    path: '/api/reservations',
    operationId: 'reserveSeats',
    summary: 'Hold seats and start the payment saga',
    description:
      'Answers 202 with a PENDING reservation. Send an Idempotency-Key to make a retry safe: the same key and body give the same reservation back (Idempotent-Replayed: true).',
    tag: 'reservations',
    caller: 'user',
    headers: [
      {
        name: 'Idempotency-Key',
        required: false,
        description: 'Makes a retry return the first answer',
        schema: idempotencyKey,
      },
      admissionToken,
    ],
    body: reserveBody,
    responses: {
      202: {
        description: 'PENDING: seats held, payment under way; Location names the reservation',
        schema: reservationView,
      },
      403: problem('No admission, or one that is forged, another fan’s, expired or spent'),
      404: problem('No such event'),
      409: problem('A seat is taken, sales are not open or closed, or the per-fan seat limit is reached'),
      422: problem('Idempotency-Key reused with another body (another event or other seats)'),
    },
    links: {
      202: {
        readReservation: onCreated('getReservation', 'Follow the saga'),
        cancelReservation: onCreated('cancelReservation', 'Cancel it'),
      },
    },
  },
  {
    method: 'get',
    path: '/api/reservations',
    operationId: 'listReservations',
    summary: "The caller's reservations, newest first",
    tag: 'reservations',
    caller: 'user',
    query: listQuery,
    responses: { 200: { description: 'The reservations', schema: z.array(reservationView) } },
  },
  {
    method: 'get',
    path: '/api/reservations/:id',
    operationId: 'getReservation',
    summary: 'One reservation',
    tag: 'reservations',
    caller: 'user',
    params: idParam,
    responses: {
      200: {
        description: 'The reservation; while it is PENDING, Retry-After says when to ask again',
        schema: reservationView,
      },
      404: problem('No such reservation, or not the caller’s'),
    },
  },
  {
    method: 'delete',
    path: '/api/reservations/:id',
    operationId: 'cancelReservation',
    summary:
      'Cancel a reservation; a confirmed one is refunded through the saga, until the event starts (then 409 event-started)',
    tag: 'reservations',
    caller: 'user',
    params: idParam,
    responses: {
      200: { description: 'CANCELLED', schema: reservationView },
      404: problem('No such reservation, or not the caller’s'),
      409: problem(
        'Already ended (cancelled or expired: not-cancellable), or confirmed and the event has started (event-started)',
      ),
    },
  },
];

export function ticketOpenApi() {
  return openApiDocument(
    {
      title: 'ReserveX ticket-service',
      version: '1.0.0',
      description: 'Events and seats, the waiting room, and reservations; owner of the booking saga.',
    },
    [...TICKET_OPERATIONS, ...PLATFORM_OPERATIONS],
  );
}
