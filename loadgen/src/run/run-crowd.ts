import { endSpan, inSpanContext, type Tracer } from '@reservex/kit';
import type { StartedStack, Targets } from '@reservex/stack';
import { FaultRunner } from '../chaos/fault-runner.ts';
import { TokenPool } from '../fans/adversaries.ts';
import { arrivalOffsets, Crowd } from '../fans/arrival.ts';
import { type BrowserFansReport, runBrowserFans } from '../fans/browser-fans.ts';
import type { HttpClient } from '../fans/http-client.ts';
import { SeatMapView } from '../fans/seat-map-view.ts';
import { afterQueue, type Fan, type RunContext, virtualUser } from '../fans/virtual-user.ts';
import { waitingFans } from '../fans/waiting-fans.ts';
import { seededRandom } from '../random.ts';
import {
  type ProcessFigures,
  processFigures,
  type WaitingRoomFigures,
  waitingRoomFigures,
} from '../report/process-figures.ts';
import { capacity, type Scenario } from '../scenario.ts';
import type { Sale } from './prepare-sale.ts';
import { startProcessSampler } from './process-sampler.ts';
import { startProgress } from './progress.ts';
import { probeProvider } from './provider-faults.ts';
import type { Recorder } from './recorder.ts';
import { Redeliverer } from './redelivery.ts';
import { SagaMonitor } from './saga-monitor.ts';
import { type LoadGeneratorFigures, startSelfMonitor } from './self-monitor.ts';

export interface CrowdOptions {
  scenario: Scenario;
  seed: number;
  targets: Targets;
  /** Absent when the runner tests a stack someone else runs: nothing can be crashed. */
  stack: StartedStack | undefined;
  external: boolean;
  http: HttpClient;
  recorder: Recorder;
  tracer: Tracer;
  browserFans: number | undefined;
  log: (m: string) => void;
}

/** What the sale left for the judging: when the last fan was done, the faults as they happened, and the monitors. */
export interface CrowdRun {
  finishedAt: number;
  faults: FaultRunner | undefined;
  /** The harness's own duplicates of saga messages: how many, and on which topics. */
  redelivered: { count: number; byTopic: Record<string, number> } | undefined;
  /** Samples the saga's backlog from the databases once a second, for each fault's recovery time. */
  monitor: SagaMonitor;
  seatMap: SeatMapView;
  loadGenerator: LoadGeneratorFigures;
  browserFans: BrowserFansReport | undefined;
  /** Each service's CPU over the sale, from its processes' own counters. */
  processes: ProcessFigures;
  /** What the waiting crowd cost, per fan; undefined when the sale had no waiting room. */
  waitingRoom: WaitingRoomFigures | undefined;
}

/**
 * The sale itself: the provider's changes on their timers, the faults on theirs, the harness's redelivery, and the
 * crowd (with any browser fans) arriving as the scenario says, until the last fan is done and the faults settled.
 * Nothing awaits a fan: one waiting minutes in the queue is a record in its schedule, ended by ctx.fanEnded.
 */
export async function runCrowd(o: CrowdOptions, sale: Sale): Promise<CrowdRun> {
  const { scenario, targets, recorder, stack, log } = o;
  const { eventId, salesOpenAt } = sale;
  if (stack?.webUrl !== undefined) log(`watch this sale live: ${stack.webUrl}#/control/${eventId}`);
  const timers = scenario.payment.changes.map((change) =>
    setTimeout(
      () => {
        sale.setFaults(change.profile).then(
          () => log(`provider faults now ${JSON.stringify(change.profile)}`),
          (e: Error) => recorder.error(e.message),
        );
      },
      salesOpenAt + change.atSecond * 1000 - Date.now(),
    ),
  );
  const monitor = new SagaMonitor(targets.ticketDb, targets.paymentDb, eventId);
  monitor.start();
  const sampler = startProcessSampler({
    metricsUrls: () => stack?.metricsUrls() ?? metricsOf(targets),
    redisUrl: targets.ticketRedis,
    recorder,
  });
  try {
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
              outage: (seconds) => sale.setFaults({ outageSeconds: seconds }),
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
            random: seededRandom(o.seed ^ 0x5eed),
            log,
          });
    await redelivery?.start();

    const deadline = salesOpenAt + scenario.durationSeconds * 1000;
    const ctx = runContext(o, sale, deadline, (index) => crowd.ended(index));
    const runStart = recorder.startedAt;
    const offsets = arrivalOffsets(scenario, salesOpenAt - runStart, seededRandom(o.seed));
    const crowd = new Crowd(offsets.map((offset) => runStart + offset));
    const browserRun = startBrowserFans(o, sale, deadline);
    const stopProgress = startProgress(recorder, capacity(scenario), process.stdout.isTTY === true);
    // From the first fan to the last: the stretch whose figures the report publishes.
    const selfMonitor = startSelfMonitor();
    const journey = (index: number): boolean => {
      if (Date.now() > deadline) return false;
      recorder.usersArrived++;
      // One trace per fan: sign-in, queue, reservation and the saga behind it (exported only when asked for).
      const span = o.tracer.startSpan('fan booking', { attributes: { 'reservex.fan': index } });
      inSpanContext(span, () =>
        virtualUser(ctx, sale.fans[index]!, seededRandom(o.seed ^ ((index + 1) * 2654435761)), span),
      );
      return true;
    };
    await crowd.arrive(journey);
    ctx.waitingFans.stop();
    const browserFans = await browserRun;
    for (const [name, load] of Object.entries((await stack?.replicaLoad()) ?? {}))
      log(`${name}: its replicas answered ${load.map((n) => n ?? '?').join(' / ')} HTTP requests`);
    const loadGenerator = selfMonitor.stop();
    const samples = await sampler.stop();
    const processes = processFigures(samples, recorder.startedAt, sampler.intervalSeconds);
    const waitingRoom =
      scenario.queue === undefined
        ? undefined
        : waitingRoomFigures(samples, processes, {
            arrived: recorder.usersArrived,
            far: recorder.waitingFar,
            near: recorder.waitingNear,
            edge: recorder.edge,
          });
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
    return {
      finishedAt,
      faults,
      redelivered:
        redelivery === undefined
          ? undefined
          : { count: redelivery.redelivered, byTopic: Object.fromEntries(redelivery.byTopic) },
      monitor,
      seatMap: ctx.seatMap,
      loadGenerator,
      browserFans,
      processes,
      waitingRoom,
    };
  } catch (error) {
    // Nothing the sale started may outlive it: the monitor's pools and the providers' change timers.
    for (const t of timers) clearTimeout(t);
    await monitor.stop();
    await sampler.stop();
    throw error;
  }
}

/** Against a stack someone else runs: each service's address, one process each as far as can be seen. */
function metricsOf(t: Targets): Record<string, string[]> {
  return {
    'account-service': [`${t.account}/metrics`],
    'ticket-service': [`${t.ticket}/metrics`],
    'payment-service': [`${t.payment}/metrics`],
    'payment-provider': [`${t.provider}/metrics`],
  };
}

/** What every fan's journey shares: the sale, the shared seat map, the waiting room's one schedule. */
function runContext(
  o: CrowdOptions,
  sale: Sale,
  deadline: number,
  ended: (index: number) => void,
): RunContext {
  const { scenario, targets, http, recorder } = o;
  const { eventId, salesOpenAt } = sale;
  const ctx: RunContext = {
    scenario,
    targets,
    http,
    recorder,
    eventId,
    salesOpenAt,
    queueOpensAt:
      scenario.queue === undefined ? undefined : salesOpenAt - scenario.queue.opensBeforeSalesSeconds * 1000,
    seatMap: new SeatMapView(http, targets.ticket, eventId),
    deadline,
    tokens: new TokenPool(),
    waitingFans: waitingFans<Fan>({
      http,
      recorder,
      url: `${targets.ticket}/api/events/${eventId}/queue/me`,
      // As a CDN would be in production, the edge cache stands in front of ticket-service for the shared status.
      statusUrl: `${targets.edge}/api/events/${eventId}/queue/status`,
      deadline,
      waited: (fan, admission) => afterQueue(ctx, fan, admission),
    }),
    fanEnded: (index, span, error) => {
      if (error !== undefined) recorder.error(`fan ${index}: ${error.message}`);
      endSpan(span, error);
      recorder.usersDone++;
      ended(index);
    },
  };
  return ctx;
}

/** Real browser fans among the crowd: from its first arrivals through the first half of its window. */
function startBrowserFans(
  o: CrowdOptions,
  sale: Sale,
  deadline: number,
): Promise<BrowserFansReport | undefined> | undefined {
  const count = o.browserFans ?? 0;
  const webUrl = o.stack?.webUrl ?? (o.external ? o.targets.web : undefined);
  if (count === 0) return undefined;
  if (webUrl === undefined)
    throw new Error('browser fans need the web page, and it did not start (see above)');
  return runBrowserFans({
    count,
    webUrl,
    targets: o.targets,
    eventId: sale.eventId,
    arriveAt: sale.salesOpenAt - o.scenario.arrival.beforeOpenSeconds * 1000,
    spreadMs: (o.scenario.arrival.overSeconds * 1000) / 2,
    deadline,
    log: o.log,
  }).catch((error: Error) => {
    o.recorder.error(`browser fans: ${error.message}`);
    return undefined;
  });
}
