// @reservex/stack: what brings a ReserveX system up and down, for the load generator, the scripts and the tests.
// The infrastructure (local mode or Docker), the services as processes or replicas behind HAProxy, network
// proxies for faults, and the web page; nothing here knows about fans or scenarios.

export { endWithThisProcess } from './child-reaper.ts';
export { CHROMIUM_PATHS, findChromium } from './chromium.ts';
export { harnessPool } from './harness-pool.ts';
export { dockerEngineReachable } from './infra/docker-mode.ts';
export { startKafka, stopKafka } from './infra/local-kafka.ts';
export { startPostgres, stopPostgres } from './infra/local-postgres.ts';
export { startRedis, stopRedis } from './infra/local-redis.ts';
export { ensurePackage } from './infra/os-packages.ts';
export { type InfraSettings, readInfraSettings } from './infra/settings.ts';
export { replicaPort } from './load-balancer.ts';
export type { Failover, ProcessTarget, UnexpectedExit } from './process-target.ts';
export { parseReplicas, ReplicasError } from './replicas.ts';
export { ensureStack, type StackOptions, type StartedStack } from './stack.ts';
export { INFRA, type InfraName, SERVICES, type ServiceName, type TargetName } from './target-names.ts';
export { defaultTargets, type Targets } from './targets.ts';
export { cacheDir, type GoTool, goTool, TOXIPROXY } from './tools/go-tool.ts';
export { type PythonTool, pythonTool, SCHEMATHESIS } from './tools/python-tool.ts';
export type { Toxiproxy } from './toxiproxy.ts';
