import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import type { WebStack } from './web-stack.ts';

/** Signs a new fan up through the page, as a person would; resolves once the events list shows. */
export async function signUpFan(page: Page, web: WebStack, name = 'Kim Min-ji'): Promise<{ email: string }> {
  const email = `fan-${randomUUID().slice(0, 8)}@example.test`;
  await page.goto(web.url);
  await page.getByRole('button', { name: 'New here? Create an account' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Password (8 characters or more)').fill('lightstick-2026');
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByRole('heading', { name: 'On sale' }).waitFor();
  return { email };
}

export async function signInAdmin(page: Page, web: WebStack): Promise<void> {
  await page.goto(web.url);
  await page.getByLabel('Email').fill(web.saga.account.config.ADMIN_EMAIL);
  await page.getByLabel('Password (8 characters or more)').fill(web.saga.account.config.ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Control room' }).waitFor();
}

export async function openEvent(page: Page, web: WebStack, eventId: string): Promise<void> {
  await page.goto(`${web.url}#/events/${eventId}`);
}

/** The seat button for section/row/number, e.g. seat(page, 'R', 'A', 3). */
export function seat(page: Page, section: string, row: string, number: number) {
  return page.locator(`[data-seat="${section}-${row}-${number}"]`);
}
