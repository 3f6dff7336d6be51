import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@reservex/kit/testing';
import { type InfraComponent, infraControl } from '../support/infra-control.ts';
import { anEvent, type SagaStack, startSagaStack } from '../support/saga-stack.ts';

async function health(url: string) {
  const res = await fetch(`${url}/actuator/health`, { signal: AbortSignal.timeout(5000) });
  return {
    status: res.status,
    body: (await res.json()) as { components: Record<string, { status: string }> },
  };
}

/**
 * Kafka, PostgreSQL and Redis each go away for 30 s while fans keep booking. No service may exit (they run in this
 * process: an uncaught error would end the test run), readiness must name the component that is down, requests
 * that need it must fail fast with 503, and afterwards every booking that was accepted must settle.
 */
describe('a dependency outage under traffic', () => {
  const control = infraControl();
  let stack: SagaStack;
  let fans: Array<{ token: string }>;
  before(async function () {
    if (control === undefined) this.skip();
    this.timeout(60_000);
    stack = await startSagaStack();
    fans = await Promise.all(Array.from({ length: 30 }, () => stack.newUser()));
  });
  after(async () => stack?.stop());

  /** Books one seat every 100 ms, round-robin over the fans, until stopped; keeps what it was told. */
  function traffic(eventId: string, seatIds: string[]) {
    const accepted: string[] = [];
    const statuses = new Map<number, number>();
    const slow: number[] = [];
    let running = true;
    const loop = (async () => {
      for (let i = 0; running && i < seatIds.length; i++) {
        const started = Date.now();
        const res = await stack
          .reserve(fans[i % fans.length]!.token, eventId, [seatIds[i]!])
          .catch(() => ({ status: 0, body: undefined }));
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (Date.now() - started > 5000) slow.push(Date.now() - started);
        if (res.status === 202) accepted.push(res.body.id);
        await sleep(100);
      }
    })();
    return {
      accepted,
      statuses,
      slow,
      stop: async () => {
        running = false;
        await loop;
      },
    };
  }

  for (const [component, readinessName] of [
    ['kafka', 'kafka'],
    ['postgres', 'postgres'],
    ['redis', 'redis'],
  ] as const) {
    it(`${component} away for 30 s: nothing exits, readiness says ${readinessName} DOWN, bookings settle afterwards`, async function () {
      this.timeout(240_000);
      const event = await stack.createEvent(
        anEvent({
          sections: [{ name: 'R', rows: 3, seatsPerRow: 200, price: 10_000 }],
          maxSeatsPerUser: 20,
          holdSeconds: 120,
        }),
      );
      const load = traffic(event.id, event.seatIds);
      await sleep(1000);
      await control!.stop(component as InfraComponent);
      try {
        const watching = component === 'kafka' ? [stack.ticketUrl, stack.paymentUrl()!] : [stack.ticketUrl];
        for (const url of watching)
          await waitFor(
            async () => {
              const h = await health(url);
              return h.status === 503 && h.body.components[readinessName]?.status === 'DOWN';
            },
            { timeoutMs: 30_000, what: `${url} to report ${readinessName} DOWN` },
          );
        await sleep(30_000);
      } finally {
        await control!.start(component as InfraComponent);
      }
      await waitFor(async () => (await health(stack.ticketUrl)).status === 200, {
        timeoutMs: 90_000,
        what: 'ticket-service ready again',
      });
      await sleep(2000);
      await load.stop();
      assert.ok(load.accepted.length > 0, 'some bookings were accepted');
      // A request that needed the missing dependency failed fast: nothing hung past the 5 s mark.
      assert.deepEqual(load.slow, [], `requests that hung: ${load.slow}`);
      for (const status of load.statuses.keys())
        assert.ok(
          [202, 503].includes(status),
          `unexpected status ${status}: ${JSON.stringify([...load.statuses])}`,
        );
      // Every accepted booking reaches an end: confirmed (or, if its hold ran out meanwhile, released).
      await waitFor(
        async () => {
          const { rows } = await stack.ticketDb.query(
            "SELECT count(*)::int AS n FROM reservations WHERE event_id = $1 AND status = 'PENDING'",
            [event.id],
          );
          return rows[0].n === 0;
        },
        { timeoutMs: 120_000, what: 'every accepted booking to settle' },
      );
      const { rows } = await stack.ticketDb.query(
        'SELECT status, count(*)::int AS n FROM reservations WHERE event_id = $1 GROUP BY status',
        [event.id],
      );
      const byStatus = Object.fromEntries(rows.map((r) => [r.status, r.n]));
      assert.equal(
        (byStatus.CONFIRMED ?? 0) + (byStatus.EXPIRED ?? 0) + (byStatus.CANCELLED ?? 0),
        load.accepted.length,
      );
      assert.ok((byStatus.CONFIRMED ?? 0) > 0, JSON.stringify(byStatus));
    });
  }
});
