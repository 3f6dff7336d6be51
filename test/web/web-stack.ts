import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { launchChromium } from '@reservex/loadgen';
import { ensureWebBuild, startWebServer } from '@reservex/web/server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type SagaStack, startSagaStack } from '../support/saga-stack.ts';

export const SCREENSHOTS = resolve(import.meta.dirname, '..', '..', 'reports', 'web');

async function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

export interface WebStack {
  saga: SagaStack;
  /** The page's address, ending in a slash. */
  url: string;
  browser: Browser;
  /**
   * What went wrong inside the pages so far, and is cleared by reading: uncaught errors, and anything the
   * Content-Security-Policy refused. A page can look right while throwing; the tests read this after each one.
   */
  takePageProblems(): string[];
  /** A fresh browser context (its own session storage): one fan, or the admin. */
  newFan(options?: { viewport?: { width: number; height: number }; locale?: string }): Promise<Page>;
  stop(): Promise<void>;
}

/**
 * The real services (in this process, fresh databases, their own Kafka topics), the page served as users get it
 * (a production Vite build) on a port the services' CORS allow, and headless Chromium from the OS package.
 */
export async function startWebStack(): Promise<WebStack> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const cors = { CORS_ORIGINS: origin };
  const saga = await startSagaStack({ account: cors, ticket: cors, payment: cors });
  await ensureWebBuild();
  const paymentUrl = saga.paymentUrl();
  if (paymentUrl === undefined) throw new Error('payment-service did not start');
  const server = await startWebServer({
    host: '127.0.0.1',
    port,
    services: { account: saga.account.url, ticket: saga.ticketUrl, payment: paymentUrl },
    prometheus: process.env.PROMETHEUS_URL ?? 'http://127.0.0.1:9090',
  });
  const browser = await launchChromium();
  const contexts: BrowserContext[] = [];
  let problems: string[] = [];
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    saga,
    url: server.url,
    browser,
    async newFan(options = {}) {
      const context = await browser.newContext({
        viewport: options.viewport ?? { width: 1280, height: 900 },
        locale: options.locale ?? 'en-GB',
      });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
      page.on('console', (message) => {
        if (/Content.Security.Policy|Refused to/i.test(message.text())) problems.push(message.text());
      });
      return page;
    },
    takePageProblems() {
      const taken = problems;
      problems = [];
      return taken;
    },
    async stop() {
      await Promise.all(contexts.map((c) => c.close().catch(() => {})));
      await browser.close();
      await server.close();
      await saga.stop();
    },
  };
}

/**
 * A suite's hooks around one web stack: started before its tests, stopped after them, and after each test the
 * provider's faults reset and the pages held to no uncaught error and nothing the Content-Security-Policy refused.
 */
export function webStackPerSuite(started: (web: WebStack) => void): void {
  let web: WebStack | undefined;
  before(async () => {
    web = await startWebStack();
    started(web);
  });
  after(async () => {
    await web?.stop();
  });
  afterEach(async () => {
    await web?.saga.setFaults({});
    assert.deepEqual(web?.takePageProblems(), [], 'no uncaught error and nothing refused by the CSP');
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
