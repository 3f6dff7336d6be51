#!/usr/bin/env node
// npm run scenario -- <name|file> [--scale N] [--seed S] [--json out.json] [--html out.html] [--target …]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { en, Faker } from '@faker-js/faker';
import { ConfigError, createTracing, inSpan, loadConfig, tracingConfigSchema } from '@reservex/kit';
import { arrivalOffsets } from './arrival.ts';
import { seedFanAccounts } from './fan-accounts.ts';
import { harnessMetrics } from './harness-metrics.ts';
import { httpClient } from './http-client.ts';
import { checkInvariants } from './invariants/index.ts';
import { startProgress } from './progress.ts';
import { awaitQuiescence } from './quiescence.ts';
import { seededRandom } from './random.ts';
import { Recorder } from './recorder.ts';
import { renderHtml } from './report/html-report.ts';
import { prometheusSeries } from './report/prometheus-charts.ts';
import { buildReport, renderSummary } from './report/run-report.ts';
import { capacity, listScenarios, loadScenario, ScenarioError, scaleScenario } from './scenario.ts';
import { SeatMapView } from './seat-map-view.ts';
import { adminToken } from './sign-in.ts';
import { ensureStack, type StartedStack } from './stack.ts';
import { defaultTargets, type Targets } from './targets.ts';
import { type RunContext, virtualUser } from './virtual-user.ts';

const USAGE = `usage: npm run scenario -- <name|file> [options]
       npm run scenario:flash-sale [-- options]

scenarios: ${listScenarios().join(', ')} (scenarios/<name>.json), or a path to a scenario file

options:
  --scale N       N times the fans and the seats (default 1)
  --seed S        seed for fans, choices and arrivals (default: random, printed)
  --json FILE     write the JSON report there (default reports/<scenario>-<time>.json)
  --html FILE     write the HTML report there (default reports/<scenario>-<time>.html)
  --target LIST   test an already running stack instead of starting one:
                  account=URL,ticket=URL,payment=URL (the checker still reads the databases named by
                  ACCOUNT_DATABASE_URL, TICKET_DATABASE_URL, PAYMENT_DATABASE_URL and KAFKA_BROKERS)
  -h, --help      this text

exit code: 0 when every invariant and threshold passes, 1 when any fails, 2 on bad usage`;

class UsageError extends Error {}

function positiveNumber(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, got "${raw}"`);
  return n;
}

const OVERVIEW_DASHBOARD = join(import.meta.dirname, '..', '..', 'dashboards', 'flash-sale-overview.json');

function parseTargets(raw: string | undefined, base: Targets): Targets {
  if (raw === undefined) return base;
  const t = { ...base };
  for (const part of raw.split(',')) {
    const [name, url] = part.split('=');
    if (
      (name !== 'account' && name !== 'ticket' && name !== 'payment') ||
      url === undefined ||
      !URL.canParse(url)
    ) {
      throw new UsageError(
        `--target takes account=URL,ticket=URL,payment=URL; "${part}" is not one of those`,
      );
    }
    t[name] = url.replace(/\/$/, '');
  }
  return t;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      scale: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'string' },
      html: { type: 'string' },
      target: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0 ? 'name a scenario' : `one scenario at a time, got ${positionals.join(' ')}`,
    );
  const scale = positiveNumber('--scale', values.scale, 1);
  const seed =
    values.seed === undefined
      ? Math.floor(Math.random() * 2 ** 31)
      : Math.floor(positiveNumber('--seed', values.seed, 1));
  const scenario = scaleScenario(loadScenario(positionals[0]!), scale);
  const seats = capacity(scenario);
  const targets = parseTargets(values.target, defaultTargets(process.env));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const reportDir = resolve('reports');
  const jsonPath = values.json ?? join(reportDir, `${scenario.name}-${stamp}.json`);
  const htmlPath = values.html ?? join(reportDir, `${scenario.name}-${stamp}.html`);
  const log = (m: string) => console.log(`scenario: ${m}`);
  log(`${scenario.name}: ${scenario.users} fans for ${seats} seats, seed ${seed}, scale ${scale}`);

  // Read first, so a mistyped variable stops the run before anything has started.
  const tracing = createTracing('loadgen', loadConfig(tracingConfigSchema, process.env));
  let stack: StartedStack | undefined;
  const recorder = new Recorder(seats);
  const http = httpClient(recorder);
  const metrics = harnessMetrics(recorder, scenario.name);
  const notServed = await metrics.listen(Number(process.env.HARNESS_METRICS_PORT ?? 9464));
  if (notServed !== undefined) log(notServed);
  try {
    if (values.target === undefined)
      stack = await ensureStack(
        targets,
        scenario.payment.initial,
        join(reportDir, `${scenario.name}-${stamp}-logs`),
        log,
      );
    const token = await adminToken(targets, http);
    const setFaults = async (profile: unknown) => {
      const res = await http.put(`${targets.payment}/api/admin/faults`, { token, body: profile });
      if (res.status !== 200)
        throw new Error(`setting payment faults failed with ${res.status}: ${JSON.stringify(res.body)}`);
    };
    await setFaults(scenario.payment.initial);

    // Sales open after the pre-queue window (and at least a few seconds out, so every fan sees the opening).
    const lead = Math.max(
      3,
      scenario.arrival.beforeOpenSeconds,
      scenario.queue?.opensBeforeSalesSeconds ?? 0,
    );
    const salesOpenAt = Date.now() + lead * 1000;
    // Registration happened days ago: the fans' accounts are written in bulk; each signs in on arrival.
    const registrationStarted = Date.now();
    const runTag = Math.floor(Math.random() * 36 ** 6).toString(36);
    const fans = await seedFanAccounts(
      targets.accountDb,
      scenario.users,
      runTag,
      new Faker({ locale: [en] }),
      seed,
    );
    const registrationSeconds = (Date.now() - registrationStarted) / 1000;
    log(`${fans.length} fan accounts ready in ${registrationSeconds.toFixed(1)} s`);

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
    const eventId = created.body.id;
    log(`event ${eventId}; sales open in ${lead} s`);

    const timers = scenario.payment.changes.map((change) =>
      setTimeout(
        () => {
          setFaults(change.profile).then(
            () => log(`payment faults now ${JSON.stringify(change.profile)}`),
            (e: Error) => recorder.error(e.message),
          );
        },
        salesOpenAt + change.atSecond * 1000 - Date.now(),
      ),
    );

    const runStart = recorder.startedAt;
    const deadline = salesOpenAt + scenario.durationSeconds * 1000;
    let availableGone = false;
    const ctx: RunContext = {
      scenario,
      targets,
      http,
      recorder,
      eventId,
      salesOpenAt,
      queueOpensAt:
        scenario.queue === undefined
          ? undefined
          : salesOpenAt - scenario.queue.opensBeforeSalesSeconds * 1000,
      seatMap: new SeatMapView(http, targets.ticket, eventId),
      deadline,
      soldOut: () => availableGone,
      markSoldOut: () => {
        availableGone = true;
      },
    };
    const random = seededRandom(seed);
    const offsets = arrivalOffsets(scenario, salesOpenAt - runStart, random);
    const stopProgress = startProgress(recorder, seats, process.stdout.isTTY === true);
    const journeys = offsets.map(async (offset, index) => {
      const wait = runStart + offset - Date.now();
      if (wait > 0) await sleep(wait);
      if (Date.now() > deadline) return;
      const fan = fans[index]!;
      recorder.usersArrived++;
      try {
        // One trace per fan: sign-in, queue, reservation and the saga behind it (exported only when asked for).
        await inSpan(tracing.tracer, 'fan booking', { attributes: { 'reservex.fan': index } }, () =>
          virtualUser(ctx, fan, seededRandom(seed ^ ((index + 1) * 2654435761))),
        );
      } catch (error) {
        recorder.error(`fan ${index}: ${(error as Error).message}`);
      } finally {
        recorder.usersDone++;
      }
    });
    await Promise.all(journeys);
    for (const t of timers) clearTimeout(t);
    stopProgress();
    const finishedAt = Date.now();
    log(
      `all fans done after ${((finishedAt - salesOpenAt) / 1000).toFixed(1)} s of sales; waiting for the saga to settle`,
    );

    const quiescence = await awaitQuiescence(
      targets.ticketDb,
      targets.paymentDb,
      eventId,
      scenario.quiescenceTimeoutSeconds * 1000,
    );
    const invariants = await checkInvariants({
      ticketDb: targets.ticketDb,
      paymentDb: targets.paymentDb,
      accountDb: targets.accountDb,
      kafkaBrokers: targets.kafkaBrokers,
      topicPrefix: targets.topicPrefix,
      eventId,
      redisUrl: targets.ticketRedis,
      redisPrefix: targets.ticketRedisPrefix,
    });
    const prometheus = await prometheusSeries({
      url: targets.prometheus,
      dashboardFile: OVERVIEW_DASHBOARD,
      fromMs: recorder.startedAt,
      // Prometheus scrapes every 5 s; a window that closes a scrape after the last fan keeps the charts' tails.
      toMs: Math.max(Date.now(), finishedAt + 6000),
    });
    if ('unavailable' in prometheus) log(`charts from the harness's samples only: ${prometheus.unavailable}`);
    const report = buildReport({
      scenario,
      capacity: seats,
      seed,
      scale,
      recorder,
      salesOpenAt,
      finishedAt,
      quiescence,
      invariants,
      registrationSeconds,
      seatMap: { views: ctx.seatMap.views, originRequests: ctx.seatMap.originRequests },
      prometheus,
    });
    mkdirSync(reportDir, { recursive: true });
    writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(htmlPath, renderHtml(report));
    console.log(renderSummary(report));
    log(`reports: ${jsonPath} and ${htmlPath}`);
    if (recorder.errors.length > 0) log(`first errors: ${recorder.errors.slice(0, 5).join(' | ')}`);
    return report.passed ? 0 : 1;
  } finally {
    metrics.close();
    await tracing.shutdown();
    await http.close();
    await stack?.stop();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    if (error instanceof ConfigError) {
      console.error(`scenario: ${error.message}`);
      process.exit(2);
    }
    if (
      error instanceof UsageError ||
      error instanceof ScenarioError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      console.error(`scenario: ${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(`scenario: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
