import { setTimeout as sleep } from 'node:timers/promises';
import { en, Faker } from '@faker-js/faker';
import type { Targets } from '@reservex/stack';
import { FAN_PASSWORD, type FanAccount, seedFanAccounts } from '../fans/fan-accounts.ts';
import type { HttpClient } from '../fans/http-client.ts';
import { adminToken, mintSessions, signIn } from '../fans/sign-in.ts';
import type { Scenario } from '../scenario.ts';
import { inBatches } from './in-batches.ts';
import { setProviderFaults } from './provider-faults.ts';

/** The on-sale as the runner set it up: the event, when it opens, and the fans who will come for it. */
export interface Sale {
  eventId: string;
  salesOpenAt: number;
  fans: FanAccount[];
  registrationSeconds: number;
  /** Changes the provider's fault profile (the scenario's `payment.changes`, an outage). */
  setFaults(change: unknown): Promise<void>;
}

/**
 * Before the doors open: the provider's faults as the scenario starts them, the fans' accounts (registered days
 * ago: written in bulk), their sign-ins when the scenario has them sign in first, and the event, created by an
 * admin with its waiting room.
 */
export async function prepareSale(o: {
  scenario: Scenario;
  seed: number;
  stamp: string;
  targets: Targets;
  http: HttpClient;
  log: (m: string) => void;
}): Promise<Sale> {
  const { scenario, targets, http, log } = o;
  const token = await adminToken(targets, http);
  const setFaults = (change: unknown) => setProviderFaults(targets, change);
  await setFaults(scenario.payment.initial);

  // Sales open after the pre-queue window (and at least a few seconds out, so every fan sees the opening).
  const lead = Math.max(3, scenario.arrival.beforeOpenSeconds, scenario.queue?.opensBeforeSalesSeconds ?? 0);
  const registrationStarted = Date.now();
  const runTag = Math.floor(Math.random() * 36 ** 6).toString(36);
  const fans = await seedFanAccounts(
    targets.accountDb,
    scenario.users,
    runTag,
    new Faker({ locale: [en] }),
    o.seed,
  );
  const registrationSeconds = (Date.now() - registrationStarted) / 1000;
  log(`${fans.length} fan accounts ready in ${registrationSeconds.toFixed(1)} s`);
  await signInFans(scenario.signIn, http, targets, token, fans, log);
  const salesOpenAt = Date.now() + lead * 1000;
  const eventId = await createEvent(http, targets, token, scenario, o.stamp, salesOpenAt);
  if (scenario.queue?.admissionControl === 'off') {
    const off = await http.patch(`${targets.ticket}/api/events/${eventId}/queue`, {
      token,
      body: { admissionControl: 'off' },
    });
    if (off.status !== 200) throw new Error(`switching the admission controller off failed: ${off.status}`);
    log('admission controller OFF: admitting at the configured rate whatever the saga can take');
  }
  log(`event ${eventId}; sales open in ${lead} s`);
  return { eventId, salesOpenAt, fans, registrationSeconds, setFaults };
}

async function createEvent(
  http: HttpClient,
  targets: Targets,
  token: string,
  scenario: Scenario,
  stamp: string,
  salesOpenAt: number,
): Promise<string> {
  const created = await http.post<{ id: string }>(`${targets.ticket}/api/events`, {
    token,
    body: {
      name: `${scenario.name} ${stamp}`,
      venue: 'Gocheok Sky Dome',
      startsAt: new Date(salesOpenAt + 30 * 86_400_000).toISOString(),
      salesOpenAt: new Date(salesOpenAt).toISOString(),
      holdSeconds: scenario.event.holdSeconds,
      maxSeatsPerUser: scenario.event.maxSeatsPerUser,
      sections: scenario.event.sections,
      ...(scenario.queue === undefined
        ? {}
        : {
            queue: {
              opensAt: new Date(salesOpenAt - scenario.queue.opensBeforeSalesSeconds * 1000).toISOString(),
              admitPerSecond: scenario.queue.admitPerSecond,
              maxActive: scenario.queue.maxActive,
            },
          }),
    },
  });
  if (created.status !== 201)
    throw new Error(`creating the event failed with ${created.status}: ${JSON.stringify(created.body)}`);
  return created.body.id;
}

/**
 * The fans' sign-in before the doors open: none (each signs in on arrival), a login each, or sessions minted in
 * bulk by the admin.
 */
async function signInFans(
  how: Scenario['signIn'],
  http: HttpClient,
  targets: Targets,
  adminToken: string,
  fans: FanAccount[],
  log: (m: string) => void,
): Promise<void> {
  if (how === 'before-sale') await signInBeforeSale(http, targets, fans, log);
  if (how === 'minted') {
    const started = Date.now();
    await mintSessions(http, targets, adminToken, fans);
    log(`${fans.length} fans' sessions minted in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

/** Every fan signs in before the sale, 64 at a time; a failed sign-in is tried again, up to 10 times. */
async function signInBeforeSale(
  http: HttpClient,
  targets: Targets,
  fans: FanAccount[],
  log: (m: string) => void,
): Promise<void> {
  const started = Date.now();
  let done = 0;
  let reportedAt = started;
  await inBatches(fans, 64, async (fan) => {
    for (let attempt = 1; fan.accessToken === undefined; attempt++) {
      try {
        fan.accessToken = await signIn(http, targets.account, fan.email, FAN_PASSWORD);
      } catch (error) {
        if (attempt >= 10) throw error;
        await sleep(200 * attempt);
      }
    }
    done++;
    if (Date.now() - reportedAt > 15_000) {
      reportedAt = Date.now();
      log(`signed in ${done} of ${fans.length} fans before the sale`);
    }
  });
  const seconds = (Date.now() - started) / 1000;
  log(
    `${fans.length} fans signed in before the sale in ${seconds.toFixed(1)} s (${(fans.length / seconds).toFixed(0)}/s)`,
  );
}
