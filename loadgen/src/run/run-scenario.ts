import { join } from 'node:path';
import { createTracing, loadConfig, tracingConfigSchema } from '@reservex/kit';
import {
  ensureStack,
  readInfraSettings,
  type ServiceName,
  type StartedStack,
  type TargetName,
  type Targets,
} from '@reservex/stack';
import { faultTargets } from '../chaos/faults.ts';
import { httpClient } from '../fans/http-client.ts';
import { capacity, type Scenario } from '../scenario.ts';
import { CAPTURED_TABLES, ChangeCapture } from '../wal/change-capture.ts';
import { harnessMetrics } from './harness-metrics.ts';
import { judgeRun } from './judge-run.ts';
import { prepareSale } from './prepare-sale.ts';
import { Recorder } from './recorder.ts';
import { type CrowdRun, runCrowd } from './run-crowd.ts';
import { type ReportPlace, writeReports } from './write-reports.ts';

export interface RunOptions extends ReportPlace {
  scenario: Scenario;
  seed: number;
  scale: number;
  targets: Targets;
  /** Test a stack someone else runs (--target): nothing is started, and nothing can be crashed. */
  external: boolean;
  stamp: string;
  log: (m: string) => void;
  /** Real browser fans (headless Chromium through the web page) alongside the protocol-level crowd. */
  browserFans?: number;
}

/**
 * Runs one scenario end to end, in its steps: bring up the stack, prepare the sale, run the crowd (faults and all),
 * judge what the databases say once the saga has settled, and write the reports. True when it passed.
 */
export async function runScenario(o: RunOptions): Promise<boolean> {
  const { scenario, targets, log } = o;
  const owned = whatTheRunMustOwn(o);
  // Read first, so a mistyped variable stops the run before anything has started.
  const tracing = createTracing('loadgen', loadConfig(tracingConfigSchema, process.env));
  const recorder = new Recorder(capacity(scenario));
  const http = httpClient(recorder);
  const metrics = harnessMetrics(recorder, scenario.name);
  const notServed = await metrics.listen(Number(process.env.HARNESS_METRICS_PORT ?? 9464));
  if (notServed !== undefined) log(notServed);
  let stack: StartedStack | undefined;
  let crowd: CrowdRun | undefined;
  let capture: ChangeCapture | { unavailable: string } | undefined;
  try {
    if (!o.external)
      stack = await ensureStack(targets, {
        logDir: join(o.reportDir, `${scenario.name}-${o.stamp}-logs`),
        log,
        proxied: owned.proxied,
        mustOwn: owned.targets,
        serviceEnv: scenario.serviceEnv,
        replicas: scenario.replicas,
      });
    // Before the sale: every change the checker judges must be in the log.
    capture = await captureChanges(o);
    const sale = await prepareSale({ ...o, http });
    crowd = await runCrowd(
      { ...o, stack, http, recorder, tracer: tracing.tracer, browserFans: o.browserFans },
      sale,
    );
    const judged = await judgeRun({ ...o, recorder }, sale.eventId, crowd, capture);
    return writeReports(o, { recorder, stack }, sale, crowd, judged).passed;
  } finally {
    if (capture instanceof ChangeCapture) await capture.close();
    await crowd?.monitor.stop();
    metrics.close();
    await tracing.shutdown();
    await http.close();
    await stack?.stop();
  }
}

/**
 * The run's change capture of ticket- and payment-service's databases. A stack the runner owns must allow it (the
 * infrastructure scripts set wal_level=logical): no capture, no verdict. Someone else's stack may not: the checks
 * that need it then say why they were skipped.
 */
async function captureChanges(o: RunOptions): Promise<ChangeCapture | { unavailable: string }> {
  try {
    return await ChangeCapture.start([
      { name: 'ticket', url: o.targets.ticketDb, tables: CAPTURED_TABLES.ticket },
      { name: 'payment', url: o.targets.paymentDb, tables: CAPTURED_TABLES.payment },
    ]);
  } catch (error) {
    if (!o.external) throw error;
    o.log(`no change log for this run: ${(error as Error).message}`);
    return { unavailable: (error as Error).message };
  }
}

/**
 * What the scenario crashes, configures or proxies, which the runner must start itself; and what cannot be done
 * at all: a scenario for another Kafka, or faults against a stack someone else runs (--target).
 */
function whatTheRunMustOwn(o: RunOptions): { targets: TargetName[]; proxied: boolean } {
  const { scenario } = o;
  const crashed = faultTargets(scenario.faults);
  const infra = readInfraSettings(process.env, true);
  const has = {
    kafkaNodes: infra.kafka.nodes,
    pgCluster: infra.postgres.cluster === undefined ? 1 : 3,
    redisSentinel: infra.redis.sentinel === undefined ? 1 : 3,
  } as const;
  const variable = {
    kafkaNodes: 'KAFKA_CLUSTER_SIZE',
    pgCluster: 'PG_CLUSTER',
    redisSentinel: 'REDIS_SENTINEL',
  };
  for (const key of Object.keys(variable) as Array<keyof typeof variable>) {
    const wanted = scenario.requires[key];
    if (wanted !== undefined && wanted !== has[key])
      throw new Error(
        `${scenario.name} needs ${variable[key]}=${wanted}, and this infrastructure has ${variable[key]}=${has[key]}: npm run infra:down, then npm run infra:up and the scenario with ${variable[key]}=${wanted}`,
      );
  }
  const configured = Object.keys(scenario.serviceEnv) as ServiceName[];
  const proxied = scenario.faults.some((f) => f.action === 'network');
  if (o.external && (crashed.length > 0 || proxied))
    throw new Error(`${scenario.name} injects faults into the stack: it cannot run against --target`);
  if (o.external && configured.length > 0)
    throw new Error(
      `${scenario.name} sets ${configured.join(', ')} up its own way: it cannot run against --target`,
    );
  return { targets: [...new Set([...crashed, ...configured])], proxied };
}
