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
    const sale = await prepareSale({ ...o, http });
    crowd = await runCrowd(
      { ...o, stack, http, recorder, tracer: tracing.tracer, browserFans: o.browserFans },
      sale,
    );
    const judged = await judgeRun({ ...o, recorder }, sale.eventId, crowd);
    return writeReports(o, { recorder, stack }, sale, crowd, judged).passed;
  } finally {
    await crowd?.monitor.stop();
    metrics.close();
    await tracing.shutdown();
    await http.close();
    await stack?.stop();
  }
}

/**
 * What the scenario crashes, configures or proxies, which the runner must start itself; and what cannot be done
 * at all: a scenario for another Kafka, or faults against a stack someone else runs (--target).
 */
function whatTheRunMustOwn(o: RunOptions): { targets: TargetName[]; proxied: boolean } {
  const { scenario } = o;
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
  return { targets: [...new Set([...crashed, ...configured])], proxied };
}
