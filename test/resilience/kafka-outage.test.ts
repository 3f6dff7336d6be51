import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@reservex/kit/testing';
import { infraControl } from '../support/infra-control.ts';
import { anEvent, type SagaStack, startSagaStack } from '../support/saga-stack.ts';

async function health(url: string) {
  const res = await fetch(`${url}/actuator/health`, { signal: AbortSignal.timeout(5000) });
  return {
    status: res.status,
    body: (await res.json()) as { components: Record<string, { status: string }> },
  };
}

describe('a Kafka outage', () => {
  const control = infraControl();
  let stack: SagaStack;
  before(async function () {
    if (control === undefined) this.skip();
    this.timeout(60_000);
    stack = await startSagaStack();
  });
  after(async () => stack?.stop());

  it('readiness names Kafka DOWN while it lasts, and the consumers come back by themselves afterwards', async function () {
    this.timeout(240_000);
    const fan = await stack.newUser();
    const event = await stack.createEvent(anEvent({ seats: 4 }));
    const services = [stack.ticketUrl, stack.paymentUrl()!];
    for (const url of services) assert.equal((await health(url)).body.components.kafka?.status, 'UP', url);
    await control!.stop('kafka');
    let during: string;
    try {
      for (const url of services) {
        await waitFor(
          async () => {
            const h = await health(url);
            return h.status === 503 && h.body.components.kafka?.status === 'DOWN';
          },
          { timeoutMs: 30_000, what: `${url} to report Kafka DOWN` },
        );
      }
      // Down long enough for the Kafka client's own retries to run out.
      await sleep(15_000);
      // Booking needs only PostgreSQL: the message waits in the outbox.
      const reserved = await stack.reserve(fan.token, event.id, [event.seatIds[0]!]);
      assert.equal(reserved.status, 202);
      during = reserved.body.id;
    } finally {
      await control!.start('kafka');
    }
    for (const url of services)
      await waitFor(async () => (await health(url)).status === 200, {
        timeoutMs: 60_000,
        what: `${url} ready`,
      });
    await stack.waitForReservation(during, 'CONFIRMED', 60_000);
    const after = await stack.reserve(fan.token, event.id, [event.seatIds[1]!]);
    await stack.waitForReservation(after.body.id, 'CONFIRMED', 30_000);
  });
});
