import assert from 'node:assert/strict';
import { parseMessage, type Topic, topicsConsumedBy } from '@reservex/contracts';
import type { Principal } from '@reservex/kit';
import {
  type ChargeOutcome,
  type PaymentSagaByHand,
  paymentSagaByHand,
} from '@reservex/payment-service/testing';
import { type TicketSagaByHand, ticketSagaByHand } from '@reservex/ticket-service/testing';
import fc from 'fast-check';

const SEATS = 6;
const USERS = 4;

type Action =
  | { kind: 'reserve'; user: number; seats: number[] }
  | { kind: 'deliver'; pick: number }
  | { kind: 'redeliver'; pick: number }
  | { kind: 'settle'; pick: number; outcome: 'captured' | 'declined' | 'timeout' }
  | { kind: 'expire'; pick: number }
  | { kind: 'cancel'; pick: number }
  | { kind: 'refund'; pick: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('reserve' as const),
      user: fc.nat(USERS - 1),
      seats: fc.uniqueArray(fc.nat(SEATS - 1), { minLength: 1, maxLength: 2 }),
    }),
  },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('redeliver' as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('settle' as const),
      pick: fc.nat(),
      outcome: fc.constantFrom('captured' as const, 'declined' as const, 'timeout' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('refund' as const), pick: fc.nat() }) },
);

interface Message {
  key: string;
  side: 'ticket' | 'payment';
  topic: Topic;
  payload: unknown;
}

describe('saga invariants under random interleavings (fast-check, real PostgreSQL)', () => {
  let ticketSide: TicketSagaByHand;
  let paymentSide: PaymentSagaByHand;

  before(async () => {
    ticketSide = await ticketSagaByHand('prop_ticket');
    paymentSide = await paymentSagaByHand('prop_payment', 5);
  });
  after(async () => {
    await ticketSide?.drop();
    await paymentSide?.drop();
  });

  it('held + sold + available = capacity at every step, and a captured unrefunded payment exists iff the reservation is CONFIRMED', async function () {
    this.timeout(240_000);
    const ticket = ticketSide.pool;
    const payment = paymentSide.pool;
    const catalog = ticketSide.events;
    const book = ticketSide.bookSeats;
    const reservations = ticketSide.reservations;
    const expiry = ticketSide.holdExpiry;
    const { settleCharge, completeRefund } = paymentSide;
    // Who consumes what, as the saga definition gives it to the services.
    const consumerOf = (topic: Topic) =>
      topicsConsumedBy('ticket-service').includes(topic)
        ? ticketSide
        : topicsConsumedBy('payment-service').includes(topic)
          ? paymentSide
          : undefined;

    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 40 }), async (actions) => {
        const event = await catalog.create({
          name: 'property',
          venue: 'v',
          startsAt: new Date(Date.now() + 86_400_000),
          salesOpenAt: new Date(Date.now() - 1000),
          holdSeconds: 3600,
          maxSeatsPerUser: 4,
          currency: 'KRW',
          sections: [{ name: 'R', rows: 1, seatsPerRow: SEATS, price: 10_000 }],
        });
        const seatIds = (
          await ticket.query('SELECT id FROM seats WHERE event_id = $1 ORDER BY number', [event.id])
        ).rows.map((r) => r.id as string);
        const users: Principal[] = Array.from({ length: USERS }, (_, i) => ({
          userId: `${event.id}-u${i}`,
          email: `u${i}@x`,
          roles: ['user'],
        }));
        const marks = {
          ticket: Number((await ticket.query('SELECT COALESCE(max(id), 0) AS m FROM outbox')).rows[0].m),
          payment: Number((await payment.query('SELECT COALESCE(max(id), 0) AS m FROM outbox')).rows[0].m),
        };
        const delivered: Message[] = [];
        const seen = new Set<string>();

        async function pending(): Promise<Message[]> {
          const out: Message[] = [];
          for (const side of ['ticket', 'payment'] as const) {
            const pool = side === 'ticket' ? ticket : payment;
            const { rows } = await pool.query(
              'SELECT id, topic, payload FROM outbox WHERE id > $1 ORDER BY id',
              [marks[side]],
            );
            for (const r of rows) {
              const key = `${side}:${r.id}`;
              if (!seen.has(key)) out.push({ key, side, topic: r.topic, payload: r.payload });
            }
          }
          return out;
        }
        async function deliver(m: Message) {
          seen.add(m.key);
          delivered.push(m);
          const consumer = consumerOf(m.topic);
          if (consumer === undefined) return; // reservation.confirmed: no saga consumer
          await consumer.deliver(parseMessage(m.topic, JSON.stringify(m.payload)));
        }
        const ids = async () =>
          (
            await ticket.query(
              'SELECT id, status FROM reservations WHERE event_id = $1 ORDER BY created_at, id',
              [event.id],
            )
          ).rows;
        const refunding = async () =>
          (
            await payment.query(
              "SELECT id FROM payments WHERE event_id = $1 AND status = 'REFUNDING' ORDER BY created_at, id",
              [event.id],
            )
          ).rows;
        const processing = async () =>
          (
            await payment.query(
              "SELECT id, attempts FROM payments WHERE event_id = $1 AND status IN ('PROCESSING', 'IN_DOUBT') ORDER BY created_at, id",
              [event.id],
            )
          ).rows;

        async function checkSeats() {
          const { rows } = await ticket.query(
            `SELECT
               count(*) FILTER (WHERE s.status = 'AVAILABLE' AND s.reservation_id IS NULL)::int AS available,
               count(*) FILTER (WHERE s.status = 'HELD' AND r.status = 'PENDING')::int AS held,
               count(*) FILTER (WHERE s.status = 'SOLD' AND r.status = 'CONFIRMED')::int AS sold
             FROM seats s LEFT JOIN reservations r ON r.id = s.reservation_id WHERE s.event_id = $1`,
            [event.id],
          );
          const c = rows[0];
          assert.equal(c.available + c.held + c.sold, SEATS, `seat accounting broke: ${JSON.stringify(c)}`);
          const live = await ticket.query(
            `SELECT count(*)::int AS n FROM reservation_seats rs JOIN reservations r ON r.id = rs.reservation_id
             WHERE r.event_id = $1 AND r.status IN ('PENDING', 'CONFIRMED')`,
            [event.id],
          );
          assert.equal(live.rows[0].n, c.held + c.sold, 'live reservations and taken seats disagree');
        }

        for (const a of actions) {
          switch (a.kind) {
            case 'reserve':
              await book(
                users[a.user]!,
                { eventId: event.id, seatIds: a.seats.map((i) => seatIds[i]!) },
                undefined,
                undefined,
              ).catch((e: { status?: number }) => assert.equal(e.status, 409));
              break;
            case 'deliver': {
              const p = await pending();
              if (p.length > 0) await deliver(p[a.pick % p.length]!);
              break;
            }
            case 'redeliver':
              if (delivered.length > 0) await deliver(delivered[a.pick % delivered.length]!);
              break;
            case 'settle': {
              const p = await processing();
              if (p.length === 0) break;
              // A timeout is an unknown: the payment goes IN_DOUBT, and a later settle resolves it.
              const result: ChargeOutcome =
                a.outcome === 'captured'
                  ? { kind: 'captured', capturedAt: new Date() }
                  : a.outcome === 'declined'
                    ? { kind: 'declined', reason: 'card-declined' }
                    : { kind: 'unknown' };
              const chosen = p[a.pick % p.length]!;
              await settleCharge(chosen.id, result, chosen.attempts);
              break;
            }
            case 'expire': {
              const live = (await ids()).filter((r) => r.status === 'PENDING');
              if (live.length === 0) break;
              await ticket.query(
                "UPDATE reservations SET expires_at = now() - interval '1 second', settle_by = now() - interval '1 second' WHERE id = $1",
                [live[a.pick % live.length]!.id],
              );
              await expiry.sweep();
              break;
            }
            case 'refund': {
              const r = await refunding();
              if (r.length > 0) await completeRefund(r[a.pick % r.length]!.id);
              break;
            }
            case 'cancel': {
              const all = await ids();
              if (all.length === 0) break;
              const r = all[a.pick % all.length]!;
              const owner = (await ticket.query('SELECT user_id FROM reservations WHERE id = $1', [r.id]))
                .rows[0].user_id;
              await reservations
                .cancel({ userId: owner, email: 'x', roles: ['user'] }, r.id)
                .catch((e: { status?: number }) => assert.equal(e.status, 409));
              break;
            }
          }
          await checkSeats();
        }

        // Quiescence: deliver everything, let every charge succeed, end every hold, until nothing moves.
        for (let round = 0; round < 50; round++) {
          const p = await pending();
          const q = await processing();
          const r = await refunding();
          for (const row of r) await completeRefund(row.id);
          if (p.length === 0 && q.length === 0 && r.length === 0) {
            const stillPending = (await ids()).filter((r) => r.status === 'PENDING');
            if (stillPending.length === 0) break;
            await ticket.query(
              "UPDATE reservations SET expires_at = now() - interval '1 second', settle_by = now() - interval '1 second' WHERE event_id = $1 AND status = 'PENDING'",
              [event.id],
            );
            await expiry.sweep();
            continue;
          }
          for (const m of p) await deliver(m);
          for (const row of q)
            await settleCharge(row.id, { kind: 'captured', capturedAt: new Date() }, row.attempts);
          await checkSeats();
        }
        assert.deepEqual(await pending(), [], 'the saga did not settle');

        const money = await ticket.query('SELECT id, status, amount FROM reservations WHERE event_id = $1', [
          event.id,
        ]);
        const pays = await payment.query(
          'SELECT reservation_id, status, amount FROM payments WHERE event_id = $1',
          [event.id],
        );
        assert.deepEqual(
          pays.rows.filter((p) => p.status === 'REFUNDING'),
          [],
          'a refund left unfinished',
        );
        const captured = new Map(
          pays.rows.filter((p) => p.status === 'CAPTURED').map((p) => [p.reservation_id, Number(p.amount)]),
        );
        for (const r of money.rows) {
          assert.equal(
            captured.has(r.id),
            r.status === 'CONFIRMED',
            `reservation ${r.status} but captured-unrefunded payment: ${captured.has(r.id)}`,
          );
        }
        const confirmedSum = money.rows
          .filter((r) => r.status === 'CONFIRMED')
          .reduce((s, r) => s + Number(r.amount), 0);
        assert.equal(
          [...captured.values()].reduce((s, a) => s + a, 0),
          confirmedSum,
          'money is not conserved',
        );
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 40) },
    );
  });
});
