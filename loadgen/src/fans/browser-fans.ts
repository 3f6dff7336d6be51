// A few real browser fans, alongside the protocol-level crowd: headless Chromium (Debian's, driven by
// playwright-core) goes through the fan page as a person would, and reports the web vitals the page showed
// them under load. k6's browser module would do the same from k6, but k6 is under the AGPL and ReserveX takes no
// AGPL dependency; see the README's choices.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Targets } from '@reservex/stack';
import { CHROMIUM_PATHS, findChromium } from '@reservex/stack';
import { type Browser, chromium, type Page } from 'playwright-core';
import { percentile } from '../run/recorder.ts';

export interface BrowserFansOptions {
  count: number;
  webUrl: string;
  targets: Targets;
  eventId: string;
  /** When the first browser fan arrives; the others follow, evenly over `spreadMs`. */
  arriveAt: number;
  spreadMs: number;
  /** After it, a fan still waiting gives up. */
  deadline: number;
  log: (m: string) => void;
}

type Outcome =
  | 'CONFIRMED'
  | 'CANCELLED'
  | 'EXPIRED'
  | 'sold-out'
  | 'not-admitted'
  | 'admission-lapsed'
  | 'no-seat'
  | 'error';

interface Vitals {
  ttfbMs: number | null;
  fcpMs: number | null;
  lcpMs: number | null;
  /** Layout shift while waiting in line, and once the seat map showed. */
  clsQueue: number;
  clsSeatMap: number;
  /** The slowest interaction (event-timing duration), on the queue page and on the seat map: INP for so few. */
  inpQueueMs: number;
  inpSeatMapMs: number;
  /** From the admission arriving to the seat map drawn. */
  seatMapReadyMs: number | null;
}

interface FanResult {
  outcome: Outcome;
  attempts: number;
  vitals?: Vitals;
  error?: string;
}

export interface Distribution {
  p50: number;
  p95: number;
  max: number;
  count: number;
}

export interface BrowserFansReport {
  fans: number;
  outcomes: Record<string, number>;
  queuePage: {
    ttfbMs: Distribution;
    fcpMs: Distribution;
    lcpMs: Distribution;
    cls: Distribution;
    inpMs: Distribution;
  };
  seatMap: { readyMs: Distribution; inpMs: Distribution; cls: Distribution };
  errors: string[];
}

// Collected in the page from the first byte: the PerformanceObserver entries web-vitals uses, kept simple.
const VITALS_SCRIPT = `(() => {
  const v = { lcp: null, fcp: null, clsQueue: 0, clsSeatMap: 0, inpQueue: 0, inpSeatMap: 0 };
  globalThis.__reservexVitals = v;
  const onSeatMap = () => performance.getEntriesByName('reservex:seat-map-ready').length > 0;
  const watch = (type, handle, extra = {}) => {
    try { new PerformanceObserver((list) => list.getEntries().forEach(handle)).observe({ type, buffered: true, ...extra }); }
    catch {}
  };
  watch('largest-contentful-paint', (e) => { v.lcp = e.startTime; });
  watch('paint', (e) => { if (e.name === 'first-contentful-paint') v.fcp = e.startTime; });
  watch('layout-shift', (e) => { if (!e.hadRecentInput) { if (onSeatMap()) v.clsSeatMap += e.value; else v.clsQueue += e.value; } });
  watch('event', (e) => {
    if (!e.interactionId) return;
    if (onSeatMap()) v.inpSeatMap = Math.max(v.inpSeatMap, e.duration); else v.inpQueue = Math.max(v.inpQueue, e.duration);
  }, { durationThreshold: 16 });
})();`;

// Evaluated in the page, as text: this file is type-checked for Node, which has no DOM.
const READ_VITALS = `(() => {
  const v = globalThis.__reservexVitals;
  const nav = performance.getEntriesByType('navigation')[0];
  const mark = (name) => performance.getEntriesByName(name)[0]?.startTime;
  const ready = mark('reservex:seat-map-ready');
  const admitted = mark('reservex:admitted') ?? 0;
  return {
    ttfbMs: nav === undefined ? null : Math.round(nav.responseStart),
    fcpMs: v.fcp === null ? null : Math.round(v.fcp),
    lcpMs: v.lcp === null ? null : Math.round(v.lcp),
    clsQueue: Math.round(v.clsQueue * 1000) / 1000,
    clsSeatMap: Math.round(v.clsSeatMap * 1000) / 1000,
    inpQueueMs: Math.round(v.inpQueue),
    inpSeatMapMs: Math.round(v.inpSeatMap),
    seatMapReadyMs: ready === undefined ? null : Math.round(ready - admitted),
  };
})()`;

async function readVitals(page: Page): Promise<Vitals> {
  return (await page.evaluate(READ_VITALS)) as Vitals;
}

async function signedInSession(t: Targets) {
  const email = `browser-fan-${randomUUID().slice(0, 12)}@example.test`;
  const password = 'lightstick-2026';
  const post = (path: string, body: unknown) =>
    fetch(`${t.account}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const signup = await post('/api/auth/signup', { email, password, name: 'Browser fan' });
  if (signup.status !== 201) throw new Error(`browser fan sign-up answered ${signup.status}`);
  const login = await post('/api/auth/login', { email, password });
  if (!login.ok) throw new Error(`browser fan sign-in answered ${login.status}`);
  const pair = (await login.json()) as { accessToken: string; refreshToken: string };
  const me = (await signup.json()) as { id: string; name: string };
  return { ...pair, userId: me.id, email, name: me.name, roles: ['user'] };
}

/** Picks an available seat at random, trying each section in turn. */
async function chooseSeat(page: Page, random: () => number): Promise<boolean> {
  const sections = page.locator('.section-tab input');
  const count = await sections.count();
  for (let s = 0; s < Math.max(1, count); s += 1) {
    if (count > 0) await sections.nth((s + Math.floor(random() * count)) % count).check();
    const free = page.locator('.seat-available[aria-disabled="false"]');
    // A seat can be taken between the count and the click (the map refreshes every 2 s): then another.
    for (let tries = 0; tries < 5; tries += 1) {
      const n = await free.count();
      if (n === 0) break;
      const clicked = await free
        .nth(Math.floor(random() * n))
        .click({ timeout: 2000 })
        .then(
          () => true,
          () => false,
        );
      if (clicked) return true;
    }
  }
  return false;
}

async function oneFan(browser: Browser, o: BrowserFansOptions, index: number): Promise<FanResult> {
  const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
  let attempts = 0;
  // Where the fan was when something went wrong: the report names it.
  let step = 'signing in';
  const page = await context.newPage();
  try {
    const session = await signedInSession(o.targets);
    await context.addInitScript(VITALS_SCRIPT);
    await context.addInitScript(
      (s: string) => sessionStorage.setItem('reservex.session', s),
      JSON.stringify(session),
    );
    const wait = o.arriveAt + (index * o.spreadMs) / Math.max(1, o.count) - Date.now();
    if (wait > 0) await sleep(wait);
    step = 'opening the event page';
    await page.goto(`${o.webUrl}#/events/${o.eventId}`);
    const join = page.getByRole('button', { name: 'Join the waiting room' });
    const seats = page.getByRole('heading', { name: 'Choose seats' });
    await Promise.race([join.waitFor({ timeout: 60_000 }), seats.waitFor({ timeout: 60_000 })]);
    if (await join.isVisible()) await join.click();
    const left = () => Math.max(1000, o.deadline - Date.now());
    step = 'waiting in line';
    // Waiting as a fan does: until the turn comes, the page says sold out, or the sale ends.
    const soldOut = page.getByText('Sold out: every seat is taken.');
    const lapsed = page.getByText('Your turn lapsed');
    for (;;) {
      if (await seats.isVisible()) break;
      if (await soldOut.isVisible()) return { outcome: 'sold-out', attempts, vitals: await readVitals(page) };
      if ((await lapsed.isVisible()) || Date.now() > o.deadline)
        return { outcome: 'not-admitted', attempts, vitals: await readVitals(page) };
      await sleep(500);
    }
    await page.locator('.seat').first().waitFor({ timeout: 30_000 });
    let seed = index + 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    step = 'choosing and booking';
    let held = false;
    const selection = page.getByTestId('selection');
    const nothingChosen = async () =>
      (await selection.count()) > 0 && /^0 /.test(await selection.innerText({ timeout: 5000 }));
    for (attempts = 1; attempts <= 8 && Date.now() < o.deadline; attempts += 1) {
      if ((await nothingChosen()) && !(await chooseSeat(page, random)))
        return { outcome: 'no-seat', attempts, vitals: await readVitals(page) };
      await page.getByRole('button', { name: 'Hold and pay' }).click();
      const booked = page.locator('[data-testid="outcome"]');
      const refused = page.getByRole('alert');
      await Promise.race([booked.waitFor({ timeout: 60_000 }), refused.waitFor({ timeout: 60_000 })]);
      if (await booked.isVisible()) {
        held = true;
        break;
      }
      const text = await refused.innerText();
      // Still busy after the page's own retries: a fan waits as told and presses again, the same seats chosen.
      const busy = /very busy\. Wait (\d+) s/.exec(text);
      if (busy !== null) {
        await sleep(Number(busy[1]) * 1000);
        attempts -= 1;
        continue;
      }
      if (/Join the waiting room again/.test(text))
        return { outcome: 'admission-lapsed', attempts, error: text, vitals: await readVitals(page) };
      if (!/Someone else just took/.test(text))
        return { outcome: 'error', attempts, error: text, vitals: await readVitals(page) };
      // The page reads the map again and lets the taken seat go; then another is chosen.
      const until = Date.now() + 10_000;
      while (!(await nothingChosen()) && Date.now() < until) await sleep(200);
    }
    // Every try met a seat someone else had just taken: a fan who gives up.
    if (!held) return { outcome: 'no-seat', attempts, vitals: await readVitals(page) };
    step = 'waiting for the payment';
    await page
      .locator('[data-testid="outcome"]:not([data-status="PENDING"])')
      .waitFor({ timeout: Math.max(30_000, left()) });
    const status = (await page.locator('[data-testid="outcome"]').getAttribute('data-status')) as Outcome;
    return { outcome: status, attempts, vitals: await readVitals(page) };
  } catch (error) {
    const vitals = await readVitals(page).catch(() => undefined);
    return {
      outcome: 'error',
      attempts,
      error: `${step}: ${(error as Error).message.split('\n')[0]}`,
      ...(vitals === undefined ? {} : { vitals }),
    };
  } finally {
    await context.close().catch(() => {});
  }
}

function distribution(values: Array<number | null | undefined>): Distribution {
  const sorted = values.filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted.at(-1) ?? 0,
    count: sorted.length,
  };
}

export function summarise(results: FanResult[]): BrowserFansReport {
  const vitals = results.flatMap((r) => (r.vitals === undefined ? [] : [r.vitals]));
  const outcomes: Record<string, number> = {};
  for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  return {
    fans: results.length,
    outcomes,
    queuePage: {
      ttfbMs: distribution(vitals.map((v) => v.ttfbMs)),
      fcpMs: distribution(vitals.map((v) => v.fcpMs)),
      lcpMs: distribution(vitals.map((v) => v.lcpMs)),
      cls: distribution(vitals.map((v) => v.clsQueue)),
      inpMs: distribution(vitals.map((v) => v.inpQueueMs)),
    },
    seatMap: {
      readyMs: distribution(vitals.map((v) => v.seatMapReadyMs)),
      inpMs: distribution(vitals.filter((v) => v.seatMapReadyMs !== null).map((v) => v.inpSeatMapMs)),
      cls: distribution(vitals.filter((v) => v.seatMapReadyMs !== null).map((v) => v.clsSeatMap)),
    },
    errors: results.flatMap((r) => (r.error === undefined ? [] : [r.error])),
  };
}

/** Debian's Chromium under Playwright, headless: the browser fans', and the browser tests' (test/web). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (executablePath === undefined)
    throw new Error(
      `no Chromium at ${CHROMIUM_PATHS.join(', ')}: install the Debian package chromium (npm test installs it when run as root)`,
    );
  return chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** Starts the browser fans; the promise ends when every one of them has an outcome. */
export async function runBrowserFans(o: BrowserFansOptions): Promise<BrowserFansReport> {
  const browser = await launchChromium();
  try {
    o.log(`${o.count} browser fan(s) go through ${o.webUrl} from the opening`);
    const results = await Promise.all(Array.from({ length: o.count }, (_, i) => oneFan(browser, o, i)));
    return summarise(results);
  } finally {
    await browser.close();
  }
}
