import assert from 'node:assert/strict';
import { waitFor } from '@reservex/kit/testing';
import { fanQueueView, type QueueStatus } from '@reservex/ticket-service/queue-status';
import type { Page } from 'playwright-core';
import { anEvent } from '../support/saga-stack.ts';
import { openEvent, seat, signUpFan } from './pages.ts';
import { screenshot, type WebStack, webStackPerSuite } from './web-stack.ts';

describe('web: a fan books in a real browser', function () {
  this.timeout(120_000);
  let web: WebStack;
  webStackPerSuite((started) => {
    web = started;
  });

  it('books a seat from sign-up to CONFIRMED, through the waiting room', async () => {
    const layout = anEvent({ seats: 12 });
    const event = await web.saga.createEvent({
      ...layout,
      queue: { opensAt: layout.salesOpenAt, admitPerSecond: 50, maxActive: 50 },
    });
    const page = await web.newFan();
    await signUpFan(page, web);
    // The list says how many seats are left, from the API's own count.
    await page
      .getByRole('listitem')
      .filter({ hasText: event.body.name })
      .getByText('12 of 12 seats left')
      .waitFor();
    await page.getByRole('link', { name: `Get tickets: ${event.body.name}` }).click();
    await page.getByRole('button', { name: 'Join the waiting room' }).click();
    await page.getByRole('heading', { name: 'Choose seats' }).waitFor();
    await screenshot(page, 'fan-seat-map');
    await seat(page, 'R', 'A', 3).click();
    assert.equal(await seat(page, 'R', 'A', 3).getAttribute('aria-pressed'), 'true');
    await page.getByRole('button', { name: 'Hold and pay' }).click();
    await page.locator('[data-testid="outcome"][data-status="CONFIRMED"]').waitFor();
    await page.getByText('Booked. Your seats are yours.').waitFor();
    await screenshot(page, 'fan-confirmed');
    // The page said CONFIRMED because the system did: the seat is sold in ticket-service's database.
    assert.deepEqual(await web.saga.seatStatuses(event.id), { AVAILABLE: 11, SOLD: 1 });
  });

  it('two fans want one seat: one books it, the other is told it was taken and sees it so', async () => {
    const event = await web.saga.createEvent(anEvent({ seats: 6 }));
    const fans = [await web.newFan(), await web.newFan()];
    await signUpFan(fans[0]!, web, 'Fan One');
    await signUpFan(fans[1]!, web, 'Fan Two');
    for (const page of fans) {
      await openEvent(page, web, event.id);
      await seat(page, 'R', 'A', 2).click();
    }
    // Both press at once: the database lets one hold the seat, the other gets a 409.
    await Promise.all(fans.map((page) => page.getByRole('button', { name: 'Hold and pay' }).click()));
    const outcomes = await Promise.all(
      fans.map((page) =>
        Promise.race([
          page
            .locator('[data-testid="outcome"][data-status="CONFIRMED"]')
            .waitFor()
            .then(() => 'booked'),
          page
            .getByRole('alert')
            .filter({ hasText: 'Someone else just took one of those seats' })
            .waitFor()
            .then(() => 'told'),
        ]),
      ),
    );
    assert.deepEqual([...outcomes].sort(), ['booked', 'told']);
    const loser = fans[outcomes.indexOf('told')]!;
    await loser.locator('[data-seat="R-A-2"][aria-disabled="true"]').waitFor();
    assert.equal(await seat(loser, 'R', 'A', 2).getAttribute('aria-pressed'), 'false');
    await screenshot(loser, 'second-fan-seat-taken');
    assert.deepEqual(await web.saga.seatStatuses(event.id), { AVAILABLE: 5, SOLD: 1 });
  });

  it('keeps the choice within the per-fan limit, and says why a seat more is not taken', async () => {
    const event = await web.saga.createEvent(anEvent({ seats: 6, maxSeatsPerUser: 2 }));
    const page = await web.newFan();
    await signUpFan(page, web);
    await openEvent(page, web, event.id);
    await page.getByText('Up to 2 seats per fan').waitFor();
    for (const n of [1, 2, 3]) await seat(page, 'R', 'A', n).click();
    assert.equal(await seat(page, 'R', 'A', 3).getAttribute('aria-pressed'), 'false');
    await page.getByText('You can choose at most 2 seats.').waitFor();
    assert.match(await page.getByTestId('selection').innerText(), /^2 selected · ₩200,000$/);
    // Letting one go makes room for another.
    await seat(page, 'R', 'A', 1).click();
    await seat(page, 'R', 'A', 3).click();
    assert.equal(await seat(page, 'R', 'A', 3).getAttribute('aria-pressed'), 'true');
  });

  it('shows a declined payment and its compensation in plain words', async () => {
    const event = await web.saga.createEvent(anEvent({ seats: 4 }));
    await web.saga.setFaults({ failureRate: 1 });
    const page = await web.newFan();
    await signUpFan(page, web);
    await openEvent(page, web, event.id);
    await seat(page, 'R', 'A', 1).click();
    await page.getByRole('button', { name: 'Hold and pay' }).click();
    const compensated = page.getByTestId('compensated');
    await compensated.waitFor();
    assert.match(
      await compensated.innerText(),
      /^Payment failed: .+\. Your seats were released and no money was taken\.$/,
    );
    await screenshot(page, 'fan-payment-declined');
    // The seat went back on sale, as the page says.
    await page.getByRole('button', { name: 'Choose other seats' }).click();
    await page.locator('[data-seat="R-A-1"][aria-disabled="false"]').waitFor();
  });

  /**
   * An event whose waiting room is paused with `ahead` fans in line, joined through the API; the admission
   * controller is off, so once resumed the line moves at 1 a second.
   */
  async function aPausedLine(ahead: number) {
    const layout = anEvent({ seats: 40 });
    const event = await web.saga.createEvent({
      ...layout,
      queue: { opensAt: layout.salesOpenAt, admitPerSecond: 1, maxActive: 1000 },
    });
    await web.saga.ticket.patch(`/api/events/${event.id}/queue`, {
      token: web.saga.adminToken,
      body: { admissionControl: 'off', paused: true },
    });
    for (let i = 0; i < ahead; i += 10)
      await Promise.all(
        Array.from({ length: Math.min(10, ahead - i) }, async () => {
          const fan = await web.saga.newUser();
          await web.saga.ticket.post(`/api/events/${event.id}/queue`, { token: fan.token });
        }),
      );
    return event;
  }

  it('keeps the place in line across a reload, and the place moves live as the line does', async () => {
    const event = await aPausedLine(6);
    const page = await web.newFan();
    await signUpFan(page, web);
    await openEvent(page, web, event.id);
    await page.getByRole('button', { name: 'Join the waiting room' }).click();
    const position = page.getByTestId('queue-position');
    await position.waitFor();
    const before = Number(await position.innerText());
    assert.equal(before, 7);
    await page.reload();
    await position.waitFor();
    assert.equal(Number(await position.innerText()), before, 'a reload keeps the place');
    await screenshot(page, 'fan-waiting');
    await web.saga.ticket.patch(`/api/events/${event.id}/queue`, {
      token: web.saga.adminToken,
      body: { paused: false },
    });
    // Pushed over SSE: no reload, no click.
    const deadline = Date.now() + 20_000;
    let now = before;
    while (now >= before && Date.now() < deadline && (await position.count()) > 0) {
      await new Promise((r) => setTimeout(r, 250));
      // The turn may come meanwhile and the place leave the page: that is not a move the fan saw.
      now = Number(await position.innerText({ timeout: 1000 }).catch(() => String(now)));
    }
    assert.ok(now < before, `the place moved from ${before} without a reload (now ${now})`);
    assert.match(await page.getByTestId('queue-announcement').innerText(), /Your place in line: \d+/);
  });

  it('far back, the fan reads only the shared status and asks the origin for their place once near the front', async () => {
    // More fans ahead than the front window (two minutes of admissions at 1 a second) holds.
    const ahead = 130;
    const event = await aPausedLine(ahead);
    const page = await web.newFan();
    await signUpFan(page, web);
    const asked = watchQueueRequests(page, event.id);
    await openEvent(page, web, event.id);
    const joining = page.waitForResponse(
      (r) => r.url().endsWith(`/api/events/${event.id}/queue`) && r.request().method() === 'POST',
    );
    await page.getByRole('button', { name: 'Join the waiting room' }).click();
    const joined = (await (await joining).json()) as {
      number: number;
      draw: number;
      ask: string;
      position: number;
    };
    assert.equal(joined.ask, 'edge', 'the join says the fan is far from the front');
    const position = page.getByTestId('queue-position');
    assert.equal(Number(await position.innerText()), ahead + 1);
    assert.deepEqual(asked.own(), [], 'nothing asked of the origin for the own place while far');
    await page.getByText('Far from the front, your place is updated every so often').waitFor();

    // A reload finds the kept place: no join, no origin; the place comes from the shared status alone.
    await page.reload();
    const read = await waitFor(async () => asked.statuses()[0], { timeoutMs: 10_000, what: 'a status read' });
    const computed = fanQueueView(read, joined).position;
    assert.equal(computed, ahead + 1);
    await page.locator(`[data-testid="queue-position"]:text-is("${computed}")`).waitFor();
    assert.equal(asked.joins(), 1, 'the reload joined nobody again');
    assert.deepEqual(asked.own(), [], 'nothing asked of the origin for the own place while far');

    // Faster admissions bring the fan inside the front window: the next look says so, and only then the page
    // asks the origin, with its ticket, and the turn arrives.
    await web.saga.ticket.patch(`/api/events/${event.id}/queue`, {
      token: web.saga.adminToken,
      body: { admitPerSecond: 20, paused: false },
    });
    await page.getByRole('heading', { name: 'Choose seats' }).waitFor({ timeout: 45_000 });
    const log = asked.log();
    const firstOwn = log.findIndex((e) => e.kind === 'own');
    const firstNear = log.findIndex(
      (e) => e.kind === 'status' && e.body !== undefined && fanQueueView(e.body, joined).ask === 'origin',
    );
    assert.ok(firstOwn >= 0, 'near the front the fan asks the origin');
    assert.ok(
      firstNear >= 0 && firstNear < firstOwn,
      `the first origin request follows a status that put the fan in the front window (${JSON.stringify(log.map((e) => e.kind))})`,
    );
    const ticket = await page.evaluate(
      (key) => JSON.parse(sessionStorage.getItem(key) ?? 'null')?.queueTicket,
      `reservex.queue.${event.id}`,
    );
    assert.ok(typeof ticket === 'string' && ticket !== '');
    assert.ok(
      asked.own().every((r) => r.ticket === ticket),
      'the origin is asked with the kept queue ticket',
    );
  });

  it('near the front, a browser that cannot read a stream asks for its place with its ticket instead', async () => {
    const layout = anEvent({ seats: 10 });
    const event = await web.saga.createEvent({
      ...layout,
      queue: { opensAt: layout.salesOpenAt, admitPerSecond: 5, maxActive: 10 },
    });
    const page = await web.newFan();
    await page.addInitScript(() => {
      Reflect.deleteProperty(globalThis, 'TextDecoderStream');
    });
    await signUpFan(page, web);
    const asked = watchQueueRequests(page, event.id);
    await openEvent(page, web, event.id);
    await page.getByRole('button', { name: 'Join the waiting room' }).click();
    await page.getByRole('heading', { name: 'Choose seats' }).waitFor();
    const own = asked.own();
    assert.ok(own.length > 0, 'the fan asked for their own place');
    assert.deepEqual(
      own.filter((r) => r.path !== 'me' || r.ticket === undefined),
      [],
      'only …/queue/me, and each time with the queue ticket',
    );
  });

  /** The fan's queue requests to ticket-service (the edge is ticket-service itself here), in order. */
  function watchQueueRequests(page: Page, eventId: string) {
    type Entry =
      | { kind: 'status'; body?: QueueStatus }
      | { kind: 'own'; path: 'me' | 'stream'; ticket: string | undefined }
      | { kind: 'join' };
    const log: Entry[] = [];
    const origin = new URL(web.saga.ticketUrl).origin;
    const base = `/api/events/${eventId}/queue`;
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.origin !== origin || request.method() === 'OPTIONS') return;
      if (url.pathname === base && request.method() === 'POST') log.push({ kind: 'join' });
      else if (url.pathname === `${base}/me` || url.pathname === `${base}/stream`)
        log.push({
          kind: 'own',
          path: url.pathname.endsWith('/me') ? 'me' : 'stream',
          ticket: request.headers()['x-queue-ticket'],
        });
    });
    page.on('response', (response) => {
      if (new URL(response.url()).pathname !== `${base}/status`) return;
      // In order of arrival; the body (none on a 304) follows.
      const entry: Entry = { kind: 'status' };
      log.push(entry);
      if (response.status() === 200)
        response.json().then(
          (body: QueueStatus) => {
            entry.body = body;
          },
          () => {},
        );
    });
    return {
      log: () => [...log],
      joins: () => log.filter((e) => e.kind === 'join').length,
      own: () => log.flatMap((e) => (e.kind === 'own' ? [{ path: e.path, ticket: e.ticket }] : [])),
      statuses: () => log.flatMap((e) => (e.kind === 'status' && e.body !== undefined ? [e.body] : [])),
    };
  }

  it('lists the fan’s tickets, and cancelling a paid one refunds it', async () => {
    const event = await web.saga.createEvent(anEvent({ seats: 4 }));
    const page = await web.newFan();
    await signUpFan(page, web);
    await openEvent(page, web, event.id);
    await seat(page, 'R', 'A', 4).click();
    await page.getByRole('button', { name: 'Hold and pay' }).click();
    await page.locator('[data-testid="outcome"][data-status="CONFIRMED"]').waitFor();
    await page.getByRole('link', { name: 'See my tickets' }).click();
    const ticket = page.locator('[data-testid="ticket"][data-status="CONFIRMED"]');
    await ticket.waitFor();
    page.once('dialog', (d) => void d.accept());
    await ticket.getByRole('button', { name: 'Cancel' }).click();
    await page
      .getByTestId('refund')
      .filter({ hasText: /^Refunded on / })
      .waitFor({ timeout: 30_000 });
    await screenshot(page, 'fan-tickets-refunded');
    assert.deepEqual(await web.saga.seatStatuses(event.id), { AVAILABLE: 4 });
  });

  it('works with the keyboard alone, on a phone-sized screen, in Korean', async () => {
    const event = await web.saga.createEvent(anEvent({ seats: 8 }));
    const page = await web.newFan({ viewport: { width: 390, height: 844 }, locale: 'ko-KR' });
    await signUpFanKorean(page);
    await openEvent(page, web, event.id);
    await page.getByRole('heading', { name: '좌석 선택' }).waitFor();
    // Tab into the map, arrow to the third seat, choose it with Space, Tab on to the button, Enter.
    await seat(page, 'R', 'A', 1).focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Space');
    assert.equal(await seat(page, 'R', 'A', 3).getAttribute('aria-pressed'), 'true');
    const noSideScroll = await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth');
    assert.ok(noSideScroll, 'the page fits a 390 px wide screen');
    await screenshot(page, 'fan-phone-korean');
    await page.getByRole('button', { name: '선점하고 결제' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="outcome"][data-status="CONFIRMED"]').waitFor();
    await page.getByText('예매 완료! 좌석이 확정되었습니다.').waitFor();

    async function signUpFanKorean(p: typeof page) {
      await p.goto(web.url);
      await p.getByRole('button', { name: '처음이신가요? 회원가입' }).click();
      await p.getByLabel('이메일').fill(`kfan-${Date.now()}@example.test`);
      await p.getByLabel('이름').fill('김민지');
      await p.getByLabel('비밀번호 (8자 이상)').fill('lightstick-2026');
      await p.getByRole('button', { name: '회원가입' }).click();
      await p.getByRole('heading', { name: '예매 중인 공연' }).waitFor();
    }
  });
});
