import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { withTransaction } from '@reservex/kit';
import { lockReservation } from '../src/store/reservations.ts';
import { applyTransition } from '../src/use-cases/reservation-transitions.ts';
import { anEvent, startTicketStack, type TicketStack } from './ticket-fixture.ts';

describe('reservation rules', () => {
  let stack: TicketStack;
  before(async function () {
    this.timeout(60_000);
    stack = await startTicketStack();
  });
  after(async () => stack?.stop());

  it('sales close when the event starts: a reservation after startsAt is refused with 409 sales-closed', async function () {
    this.timeout(20_000);
    const fan = await stack.newUser();
    const startsAt = Date.now() + 1500;
    const event = await stack.createEvent({
      ...anEvent({ seats: 1 }),
      startsAt: new Date(startsAt).toISOString(),
    });
    await sleep(Math.max(0, startsAt - Date.now() + 100));
    const late = await stack.reserve(fan.token, event.id, event.seatIds);
    assert.equal(late.status, 409, JSON.stringify(late.body));
    assert.equal(late.body.type, 'https://reservex.dev/problems/sales-closed');
    assert.deepEqual(await stack.seatStatuses(event.id), { AVAILABLE: 1 });
  });

  it('a confirmation is refused when the reservation no longer holds all its seats: nothing is sold by half', async () => {
    const fan = await stack.newUser();
    const event = await stack.createEvent(anEvent({ seats: 2 }));
    const reserved = await stack.reserve(fan.token, event.id, event.seatIds);
    assert.equal(reserved.status, 202);
    // A seat lost from under its reservation, as only a bug could do.
    await stack.ticketDb.query("UPDATE seats SET status = 'AVAILABLE', reservation_id = NULL WHERE id = $1", [
      event.seatIds[1],
    ]);
    await assert.rejects(
      withTransaction(stack.ticketDb, async (tx) => {
        const reservation = await lockReservation(tx, reserved.body.id);
        await applyTransition(tx, reservation!, 'confirm', { paymentId: randomUUID() });
      }),
    );
    const after = await stack.ticketDb.query('SELECT status FROM reservations WHERE id = $1', [
      reserved.body.id,
    ]);
    assert.equal(after.rows[0].status, 'PENDING');
    assert.deepEqual(await stack.seatStatuses(event.id), { AVAILABLE: 1, HELD: 1 });
  });
});
