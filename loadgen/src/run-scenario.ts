import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { en, Faker } from '@faker-js/faker';
import { createTracing, endSpan, inSpanContext, loadConfig, tracingConfigSchema } from '@reservex/kit';
import { readInfraSettings } from '../../scripts/infra/settings.ts';
import { TokenPool } from './adversaries.ts';
import { arrivalOffsets, Crowd } from './arrival.ts';
import { runBrowserFans } from './browser-fans.ts';
import { FaultRunner } from './chaos/fault-runner.ts';
import { faultTargets } from './chaos/faults.ts';
import type { ServiceName } from './chaos/target-names.ts';
import { FAN_PASSWORD, type FanAccount, seedFanAccounts } from './fan-accounts.ts';
import { harnessMetrics } from './harness-metrics.ts';
import { harnessPool } from './harness-pool.ts';
import { type HttpClient, httpClient } from './http-client.ts';
import { inBatches } from './in-batches.ts';
import { checkInvariants } from './invariants/index.ts';
import { paymentFigures } from './payment-figures.ts';
import { startProgress } from './progress.ts';
import { probeProvider, setProviderFaults } from './provider-faults.ts';
import { awaitQuiescence } from './quiescence.ts';
import { seededRandom } from './random.ts';
import { Recorder } from './recorder.ts';
import { Redeliverer } from './redelivery.ts';
import { renderHtml } from './report/html-report.ts';
import { prometheusSeries } from './report/prometheus-charts.ts';
import { buildReport, type CheckTarget, renderSummary } from './report/run-report.ts';
import { checkExpectations, runFacts } from './run-facts.ts';
import { SagaMonitor } from './saga-monitor.ts';
import { capacity, type Scenario } from './scenario.ts';
import { SeatMapView } from './seat-map-view.ts';
import { type LoadGeneratorFigures, startSelfMonitor } from './self-monitor.ts';
import { adminToken, signIn } from './sign-in.ts';
import { ensureStack, type StartedStack } from './stack.ts';
import type { Targets } from './targets.ts';
import { afterQueue, type Fan, type RunContext, virtualUser } from './virtual-user.ts';
import { waitingFans } from './waiting-fans.ts';

const OVERVIEW_DASHBOARD = join(import.meta.dirname, '..', '..', 'dashboards', 'flash-sale-overview.json');

export interface RunOptions {
  scenario: Scenario;
  seed: number;
  scale: number;
  targets: Targets;
  /** Test a stack someone else runs (--target): nothing is started, and nothing can be crashed. */
  external: boolean;
  reportDir: string;
  stamp: string;
  jsonPath: string;
  htmlPath: string;
  log: (m: string) => void;
  /** Real browser fans (headless Chromium through the web page) alongside the protocol-level crowd. */
  browserFans?: number;
}

/** Sold seats as the database has them: the fans' own tally misses bookings whose answer an outage swallowed. */
async function soldSeats(ticketDb: string, eventId: string): Promise<number | undefined> {
  const pool = harnessPool(ticketDb, 1);
  try {
    const { rows } = await pool.query(
      "SELECT count(*)::int AS n FROM seats WHERE event_id = $1 AND status = 'SOLD'",
      [eventId],
    );
    return rows[0].n;
  } catch {
    return undefined;
  } finally {
    await pool.end();
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

/** Runs one scenario end to end: stack, fans, faults, quiescence, invariants, reports. True when it passed. */
export async function runScenario(o: RunOptions): Promise<boolean> {
  const { scenario, seed, targets, log } = o;
  const seats = capacity(scenario);
  const crashed = faultTargets(scenario.faults);
  const kafkaNodes = readInfraSettings(process.env, true).kafka.nodes;
  if (scenario.requires.kafkaNodes !== undefined && scenario.requires.kafkaNodes !== kafkaNodes)
    throw new Error(
      `${scenario.name} needs a Kafka of ${scenario.requires.kafkaNodes} broker(s), and this one has ${kafkaNodes}: npm run infra:down, then run it with KAFKA_CLUSTER_SIZE=${scenario.requires.kafkaNodes}`,
    );
  const configured = Object.keys(scenario.serviceEnv) as ServiceName[];
  const proxied = scenario.faults.some((f) => f.action === 'network');
  if (o.external && (crashed.length > 0 || proxied))
    throw new Error(`${scenario.name} injects faults into the stack: it cannot run against --target`);
  if (o.external && configured.length > 0)
    throw new Error(
      `${scenario.name} sets ${configured.join(', ')} up its own way: it cannot run against --target`,
    );

  // Read first, so a mistyped variable stops the run before anything has started.
  const tracing = createTracing('loadgen', loadConfig(tracingConfigSchema, process.env));
  let stack: StartedStack | undefined;
  const recorder = new Recorder(seats);
  let loadGenerator: LoadGeneratorFigures | undefined;
  const http = httpClient(recorder);
  const metrics = harnessMetrics(recorder, scenario.name);
  const notServed = await metrics.listen(Number(process.env.HARNESS_METRICS_PORT ?? 9464));
  if (notServed !== undefined) log(notServed);
  let monitor: SagaMonitor | undefined;
  try {
    if (!o.external)
      stack = await ensureStack(targets, {
        logDir: join(o.reportDir, `${scenario.name}-${o.stamp}-logs`),
        log,
        proxied,
        mustOwn: [...new Set([...crashed, ...configured])],
        serviceEnv: scenario.serviceEnv,
        replicas: scenario.replicas,
      });
    const token = await adminToken(targets, http);
    const setFaults = (change: unknown) => setProviderFaults(targets, change);
    await setFaults(scenario.payment.initial);

    // Sales open after the pre-queue window (and at least a few seconds out, so every fan sees the opening).
    const lead = Math.max(
      3,
      scenario.arrival.beforeOpenSeconds,
      scenario.queue?.opensBeforeSalesSeconds ?? 0,
    );
    // Registration happened days ago: the fans' accounts are written in bulk; each signs in on arrival, or
    // before the sale when the scenario says so.
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
    if (scenario.signIn === 'before-sale') await signInBeforeSale(http, targets, fans, log);
    const salesOpenAt = Date.now() + lead * 1000;

    const created = await http.post<{ id: string }>(`${targets.ticket}/api/events`, {
      token,
      body: {
        name: `${scenario.name} ${o.stamp}`,
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
    if (scenario.queue?.admissionControl === 'off') {
      const off = await http.patch(`${targets.ticket}/api/events/${eventId}/queue`, {
        token,
        body: { admissionControl: 'off' },
      });
      if (off.status !== 200) throw new Error(`switching the admission controller off failed: ${off.status}`);
      log('admission controller OFF: admitting at the configured rate whatever the saga can take');
    }
    log(`event ${eventId}; sales open in ${lead} s`);
    if (stack?.webUrl !== undefined) log(`watch this sale live: ${stack.webUrl}#/control/${eventId}`);

    const timers = scenario.payment.changes.map((change) =>
      setTimeout(
        () => {
          setFaults(change.profile).then(
            () => log(`provider faults now ${JSON.stringify(change.profile)}`),
            (e: Error) => recorder.error(e.message),
          );
        },
        salesOpenAt + change.atSecond * 1000 - Date.now(),
      ),
    );
    monitor = new SagaMonitor(targets.ticketDb, targets.paymentDb, eventId);
    monitor.start();
    const faults =
      stack === undefined
        ? undefined
        : new FaultRunner(
            scenario.faults,
            stack,
            {
              'account-service': targets.account,
              'ticket-service': targets.ticket,
              'payment-service': targets.payment,
              'payment-provider': targets.provider,
            },
            {
              outage: (seconds) => setFaults({ outageSeconds: seconds }),
              probe: () => probeProvider(targets),
            },
            log,
          );
    faults?.schedule(salesOpenAt);
    const redelivery =
      scenario.redelivery === undefined || scenario.redelivery.share === 0
        ? undefined
        : new Redeliverer({
            brokers: targets.kafkaBrokers,
            prefix: targets.topicPrefix,
            share: scenario.redelivery.share,
            delayMs: scenario.redelivery.delayMs,
            random: seededRandom(seed ^ 0x5eed),
            log,
          });
    await redelivery?.start();

    const runStart = recorder.startedAt;
    const deadline = salesOpenAt + scenario.durationSeconds * 1000;
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
      tokens: new TokenPool(),
      waitingFans: waitingFans<Fan>({
        http,
        recorder,
        url: `${targets.ticket}/api/events/${eventId}/queue/me`,
        deadline,
        waited: (fan, admission) => afterQueue(ctx, fan, admission),
      }),
      fanEnded: (index, span, error) => {
        if (error !== undefined) recorder.error(`fan ${index}: ${error.message}`);
        endSpan(span, error);
        recorder.usersDone++;
        crowd.ended(index);
      },
    };
    const random = seededRandom(seed);
    const offsets = arrivalOffsets(scenario, salesOpenAt - runStart, random);
    const crowd = new Crowd(offsets.map((offset) => runStart + offset));
    const webUrl = stack?.webUrl ?? (o.external ? targets.web : undefined);
    if ((o.browserFans ?? 0) > 0 && webUrl === undefined)
      throw new Error('browser fans need the web page, and it did not start (see above)');
    const browserRun =
      (o.browserFans ?? 0) > 0 && webUrl !== undefined
        ? runBrowserFans({
            count: o.browserFans ?? 0,
            webUrl,
            targets,
            eventId,
            // Among the crowd: from its first arrivals through the first half of its window.
            arriveAt: salesOpenAt - scenario.arrival.beforeOpenSeconds * 1000,
            spreadMs: (scenario.arrival.overSeconds * 1000) / 2,
            deadline,
            log,
          }).catch((error: Error) => {
            recorder.error(`browser fans: ${error.message}`);
            return undefined;
          })
        : undefined;
    const stopProgress = startProgress(recorder, seats, process.stdout.isTTY === true);
    // From the first fan to the last: the stretch whose figures the report publishes.
    const selfMonitor = startSelfMonitor();
    // Nothing awaits a fan: one waiting minutes in the queue is a record in its schedule, ended by ctx.fanEnded.
    const journey = (index: number): boolean => {
      if (Date.now() > deadline) return false;
      recorder.usersArrived++;
      // One trace per fan: sign-in, queue, reservation and the saga behind it (exported only when asked for).
      const span = tracing.tracer.startSpan('fan booking', { attributes: { 'reservex.fan': index } });
      inSpanContext(span, () =>
        virtualUser(ctx, fans[index]!, seededRandom(seed ^ ((index + 1) * 2654435761)), span),
      );
      return true;
    };
    await crowd.arrive(journey);
    ctx.waitingFans.stop();
    const browserFans = await browserRun;
    for (const [name, load] of Object.entries((await stack?.replicaLoad()) ?? {}))
      log(`${name}: its replicas answered ${load.map((n) => n ?? '?').join(' / ')} HTTP requests`);
    loadGenerator = selfMonitor.stop();
    if (loadGenerator.bottleneck !== null)
      log(`WARNING: ${loadGenerator.bottleneck}; this run's figures are not publishable`);
    for (const t of timers) clearTimeout(t);
    await faults?.settle();
    await redelivery?.stop();
    if (redelivery !== undefined)
      log(`redelivered ${redelivery.redelivered} saga message(s) as exact duplicates, late and out of order`);
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
    await monitor.stop();
    const check: CheckTarget = {
      eventId,
      ticketDb: targets.ticketDb,
      paymentDb: targets.paymentDb,
      accountDb: targets.accountDb,
      providerDb: targets.providerDb,
      kafkaBrokers: targets.kafkaBrokers,
      topicPrefix: targets.topicPrefix,
      redisUrl: targets.ticketRedis,
      redisPrefix: targets.ticketRedisPrefix,
      refusals: recorder.refusals,
    };
    const invariants = await checkInvariants(check);
    const payments = await paymentFigures({
      ticketDb: targets.ticketDb,
      paymentDb: targets.paymentDb,
      providerDb: targets.providerDb,
      eventId,
    });
    const facts = await runFacts({
      ticketDb: targets.ticketDb,
      eventId,
      recorder,
      payments,
      redelivered: redelivery?.redelivered ?? 0,
    });
    const prometheus = await prometheusSeries({
      url: targets.prometheus,
      dashboardFile: OVERVIEW_DASHBOARD,
      fromMs: recorder.startedAt,
      // Prometheus scrapes every 5 s; a window that closes a scrape after the last fan keeps the charts' tails.
      toMs: Math.max(Date.now(), finishedAt + 6000),
    });
    if ('unavailable' in prometheus) log(`charts from the harness's samples only: ${prometheus.unavailable}`);
    const settledAt = quiescence.reached ? Date.now() : undefined;
    const report = buildReport({
      scenario,
      capacity: seats,
      seed,
      scale: o.scale,
      recorder,
      salesOpenAt,
      finishedAt,
      quiescence,
      invariants,
      registrationSeconds,
      seatMap: { views: ctx.seatMap.views, originRequests: ctx.seatMap.originRequests },
      prometheus,
      soldSeats: await soldSeats(targets.ticketDb, eventId),
      check,
      payments,
      facts,
      expectations: checkExpectations(scenario.expect, facts),
      redelivered: redelivery === undefined ? null : Object.fromEntries(redelivery.byTopic),
      faults: (faults?.records ?? []).map((r) => ({
        label: r.label,
        fault: r.fault,
        startedAt: new Date(r.startedAt).toISOString(),
        atSecond: Math.round((r.startedAt - recorder.startedAt) / 100) / 10,
        endedAtSecond:
          r.endedAt === undefined ? null : Math.round((r.endedAt - recorder.startedAt) / 100) / 10,
        recoverySeconds:
          r.endedAt === undefined
            ? null
            : (monitor!.drainedAfter(r.endedAt) ??
              (settledAt === undefined ? null : Math.round((settledAt - r.endedAt) / 100) / 10)),
        ...(r.error === undefined ? {} : { error: r.error }),
        ...(r.observed === undefined ? {} : { observed: r.observed }),
      })),
      unexpectedExits: (stack?.unexpectedExits ?? []).map((e) => ({
        target: e.target,
        atSecond: Math.round((e.at - recorder.startedAt) / 100) / 10,
        detail: e.detail,
      })),
      ownsServices: (stack?.started.length ?? 0) > 0,
      loadGenerator,
      browserFans,
    });
    mkdirSync(o.reportDir, { recursive: true });
    writeFileSync(o.jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(o.htmlPath, renderHtml(report));
    console.log(renderSummary(report));
    log(`reports: ${o.jsonPath} and ${o.htmlPath}`);
    if (recorder.errors.length > 0) log(`first errors: ${recorder.errors.slice(0, 5).join(' | ')}`);
    return report.passed;
  } finally {
    await monitor?.stop();
    metrics.close();
    await tracing.shutdown();
    await http.close();
    await stack?.stop();
  }
}
