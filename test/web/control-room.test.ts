import assert from 'node:assert/strict';
import { anEvent } from '../support/saga-stack.ts';
import { openEvent, seat, signInAdmin, signUpFan } from './pages.ts';
import { screenshot, type WebStack, webStackPerSuite } from './web-stack.ts';

interface QueueState {
  admitPerSecond: number;
  paused: boolean;
  admittedTotal: number;
  waiting: number;
  admissionControl: string;
}

describe('web: the control room, in a real browser', function () {
  this.timeout(120_000);
  let web: WebStack;
  webStackPerSuite((started) => {
    web = started;
  });

  const queueOf = async (eventId: string): Promise<QueueState> =>
    (await web.saga.ticket.get(`/api/events/${eventId}/queue`)).body;

  const queuedEvent = (admitPerSecond: number, maxActive: number) => {
    const layout = anEvent({ seats: 20 });
    return web.saga.createEvent({
      ...layout,
      queue: { opensAt: layout.salesOpenAt, admitPerSecond, maxActive },
    });
  };

  async function openControlRoom(eventId: string) {
    const admin = await web.newFan();
    await signInAdmin(admin, web);
    await admin.getByRole('link', { name: 'Control room' }).click();
    await admin.getByTestId('event-select').selectOption(eventId);
    await admin.getByTestId('queue-stats').waitFor();
    return admin;
  }

  it('creates an event with its sections and waiting room, which fans then see', async () => {
    const admin = await web.newFan();
    await signInAdmin(admin, web);
    await admin.goto(`${web.url}#/control`);
    const name = `Seventeen Follow Tour ${Date.now()}`;
    await admin.getByLabel('Name', { exact: true }).fill(name);
    await admin.getByLabel(/^Sections/).fill('VIP, 2, 5, 198000\nR, 3, 10, 154000');
    await admin.getByRole('button', { name: 'Create', exact: true }).click();
    await admin.getByText(`Created ${name}.`).waitFor();
    const { body: events } = await web.saga.ticket.get('/api/events?limit=200');
    const created = events.find((e: { name: string }) => e.name === name);
    assert.ok(created, 'the event exists in ticket-service');
    assert.equal(created.capacity, 40);
    assert.equal((await queueOf(created.id)).admitPerSecond, 50);
    const fan = await web.newFan();
    await signUpFan(fan, web);
    await fan.getByRole('heading', { name }).waitFor();
  });

  it('pauses the waiting room, and the waiting fan’s page says so; resuming clears it', async () => {
    const event = await queuedEvent(5, 1);
    await web.saga.ticket.patch(`/api/events/${event.id}/queue`, {
      token: web.saga.adminToken,
      body: { admissionControl: 'off' },
    });
    // Someone ahead holds the only slot, so the fan below waits.
    const ahead = await web.saga.newUser();
    await web.saga.ticket.post(`/api/events/${event.id}/queue`, { token: ahead.token });
    const fan = await web.newFan();
    await signUpFan(fan, web);
    await openEvent(fan, web, event.id);
    await fan.getByRole('button', { name: 'Join the waiting room' }).click();
    await fan.getByTestId('queue-position').waitFor();
    assert.equal(await fan.getByTestId('queue-paused').count(), 0);

    const admin = await openControlRoom(event.id);
    await admin.getByRole('button', { name: 'Pause' }).click();
    await admin.getByRole('button', { name: 'Resume' }).waitFor();
    assert.equal((await queueOf(event.id)).paused, true);
    await fan.getByTestId('queue-paused').waitFor({ timeout: 15_000 });
    // Screen readers hear it too, at once rather than with the next place.
    assert.match(await fan.getByTestId('queue-announcement').innerText(), /paused by the organiser/);
    await screenshot(fan, 'fan-queue-paused');
    await screenshot(admin, 'control-room-paused');
    await admin.getByRole('button', { name: 'Resume' }).click();
    await fan.getByTestId('queue-paused').waitFor({ state: 'detached', timeout: 15_000 });
  });

  it('changes the admission rate, and the queue follows', async () => {
    const event = await queuedEvent(1, 1000);
    const admin = await openControlRoom(event.id);
    await admin.getByLabel('Admission controller').selectOption('off');
    await admin.getByText('Saved.').waitFor();
    const fans = await Promise.all(Array.from({ length: 30 }, () => web.saga.newUser()));
    for (const f of fans) await web.saga.ticket.post(`/api/events/${event.id}/queue`, { token: f.token });
    await new Promise((r) => setTimeout(r, 3000));
    const slow = await queueOf(event.id);
    assert.ok(slow.admittedTotal <= 8, `at 1/s, ${slow.admittedTotal} admitted in about 3 s`);

    const dial = admin.getByRole('region', { name: 'Event', exact: true });
    await dial.getByLabel('Admitted per second').fill('200');
    await dial.getByRole('button', { name: 'Apply' }).click();
    await admin.getByTestId('stat-rate').filter({ hasText: '200/s' }).waitFor();
    await admin.getByTestId('stat-waiting').filter({ hasText: /^0$/ }).waitFor({ timeout: 15_000 });
    const fast = await queueOf(event.id);
    assert.equal(fast.admitPerSecond, 200);
    assert.equal(fast.admissionControl, 'off');
    assert.ok(
      fast.admittedTotal >= 30,
      `all 30 admitted once the rate was raised, not ${fast.admittedTotal}`,
    );
    await screenshot(admin, 'control-room-rate-raised');
  });

  it('sets the payment faults, and a fan’s payment is declined by them', async () => {
    const event = await web.saga.createEvent(anEvent({ seats: 4 }));
    const admin = await web.newFan();
    await signInAdmin(admin, web);
    await admin.goto(`${web.url}#/control`);
    await admin.getByLabel('Declined (share)').fill('1');
    await admin
      .getByRole('region', { name: 'Payment faults' })
      .getByRole('button', { name: 'Apply' })
      .click();
    await admin.getByRole('region', { name: 'Payment faults' }).getByText('Saved.').waitFor();
    const fan = await web.newFan();
    await signUpFan(fan, web);
    await openEvent(fan, web, event.id);
    await seat(fan, 'R', 'A', 1).click();
    await fan.getByRole('button', { name: 'Hold and pay' }).click();
    await fan.getByTestId('compensated').waitFor();
  });

  it('draws the Flash-sale overview dashboard’s panels from Prometheus, and any other dashboard picked', async () => {
    const admin = await web.newFan();
    await signInAdmin(admin, web);
    await admin.goto(`${web.url}#/control`);
    // Same panels as dashboards/flash-sale-overview.json: 4 stats and 7 time series, each a uPlot canvas.
    await admin.getByTestId('chart-panel').first().waitFor();
    assert.equal(await admin.getByTestId('stat-panel').count(), 4);
    assert.equal(await admin.getByTestId('chart-panel').count(), 7);
    await admin.locator('[data-testid="chart-panel"] canvas').nth(6).waitFor();
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await admin.getByText('Prometheus does not answer').count(), 0, 'Prometheus answered');
    await screenshot(admin, 'control-room');
    // The picker offers the other four dashboards too: Saga health has 1 stat and 11 time series.
    await admin
      .getByRole('combobox', { name: /^Dashboard/ })
      .selectOption({ label: 'ReserveX · Saga health' });
    await admin.getByText('Dead-lettered messages (total)').waitFor();
    assert.equal(await admin.getByTestId('stat-panel').count(), 1);
    assert.equal(await admin.getByTestId('chart-panel').count(), 11);
  });

  it('opens on the event its address names, as the scenario runner prints it', async () => {
    const event = await queuedEvent(7, 70);
    await queuedEvent(9, 90);
    const admin = await web.newFan();
    await signInAdmin(admin, web);
    await admin.goto(`${web.url}#/control/${event.id}`);
    await admin.getByTestId('stat-rate').filter({ hasText: '7/s' }).waitFor();
    assert.equal(await admin.getByTestId('event-select').inputValue(), event.id);
  });

  it('is for admins only', async () => {
    const fan = await web.newFan();
    await signUpFan(fan, web);
    await fan.goto(`${web.url}#/control`);
    await fan.getByText('The control room is for admins.').waitFor();
    assert.equal(await fan.getByRole('link', { name: 'Control room' }).count(), 0);
    // And the API behind it says the same, whatever a page shows.
    const payment = web.saga.payment()!;
    const someone = await web.saga.newUser();
    const path = '/api/admin/payment-faults';
    assert.equal((await payment.get(path, { token: someone.token })).status, 403);
    assert.equal((await payment.put(path, { token: someone.token, body: { failureRate: 1 } })).status, 403);
    // An admin's invalid profile is refused with the field named, before it reaches the provider.
    const invalid = await payment.put(path, {
      token: web.saga.adminToken,
      body: { failureRate: 2, latencyMs: { min: 0, max: 5 } },
    });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.errors[0].pointer, '/failureRate');
  });
});
