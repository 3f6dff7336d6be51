import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { anEvent } from '../support/saga-stack.ts';
import { openEvent, seat, signInAdmin, signUpFan } from './pages.ts';
import { type WebStack, webStackPerSuite } from './web-stack.ts';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** axe-core's WCAG 2.x A and AA rules on the page as it stands; only serious and critical findings are returned. */
async function seriousViolations(page: Page): Promise<Violation[]> {
  // Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern.
  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(
    `axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((r) => r.violations)`,
  )) as Violation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

function explain(page: string, violations: Violation[]): string {
  return `${page}: ${violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; ')}`;
}

describe('web: accessibility (axe-core), zero serious or critical violations', function () {
  this.timeout(120_000);
  let web: WebStack;
  webStackPerSuite((started) => {
    web = started;
  });

  it('catches what it exists for: a nameless button and unreadable text fail the check', async () => {
    const page = await web.newFan();
    await page.goto(web.url);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.evaluate(`{
      const seat = document.createElement('button');
      seat.className = 'seat';
      document.querySelector('main').append(seat);
      const faint = document.createElement('p');
      faint.textContent = 'Your place in line';
      faint.style.color = '#f7f7fb';
      faint.style.background = '#ffffff';
      document.querySelector('main').append(faint);
    }`);
    const ids = (await seriousViolations(page)).map((v) => v.id).sort();
    assert.deepEqual(ids, ['button-name', 'color-contrast']);
  });

  it('on every page a fan passes through, in both languages', async () => {
    const layout = anEvent({ seats: 30 });
    const event = await web.saga.createEvent({
      ...layout,
      queue: { opensAt: layout.salesOpenAt, admitPerSecond: 20, maxActive: 100 },
    });
    const page = await web.newFan();
    const found: string[] = [];
    const check = async (name: string) => {
      const v = await seriousViolations(page);
      if (v.length > 0) found.push(explain(name, v));
    };
    await page.goto(web.url);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await check('sign-in');
    await signUpFan(page, web);
    await check('events');
    await openEvent(page, web, event.id);
    await page.getByRole('button', { name: 'Join the waiting room' }).click();
    await page.getByRole('heading', { name: 'Choose seats' }).waitFor();
    await check('seat map');
    await seat(page, 'R', 'A', 5).click();
    await page.getByRole('button', { name: 'Hold and pay' }).click();
    await page.locator('[data-testid="outcome"][data-status="CONFIRMED"]').waitFor();
    await check('outcome');
    await page.goto(`${web.url}#/tickets`);
    await page.locator('[data-testid="ticket"]').first().waitFor();
    await check('my tickets');
    await page.getByLabel('Language').selectOption('ko');
    await page.getByRole('heading', { name: '내 티켓' }).waitFor();
    await check('my tickets (Korean)');
    assert.deepEqual(found, []);
  });

  it('in the waiting room and the control room', async () => {
    const layout = anEvent({ seats: 10 });
    const event = await web.saga.createEvent({
      ...layout,
      queue: { opensAt: layout.salesOpenAt, admitPerSecond: 1, maxActive: 1 },
    });
    const ahead = await web.saga.newUser();
    await web.saga.ticket.post(`/api/events/${event.id}/queue`, { token: ahead.token });
    const found: string[] = [];
    const fan = await web.newFan();
    await signUpFan(fan, web);
    await openEvent(fan, web, event.id);
    await fan.getByRole('button', { name: 'Join the waiting room' }).click();
    await fan.getByTestId('queue-position').waitFor();
    const waiting = await seriousViolations(fan);
    if (waiting.length > 0) found.push(explain('waiting room', waiting));

    const admin = await web.newFan();
    await signInAdmin(admin, web);
    await admin.goto(`${web.url}#/control`);
    await admin.getByTestId('queue-stats').waitFor();
    await admin.getByTestId('chart-panel').first().waitFor();
    const control = await seriousViolations(admin);
    if (control.length > 0) found.push(explain('control room', control));
    assert.deepEqual(found, []);
  });
});
