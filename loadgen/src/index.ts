// @reservex/loadgen: the harness, for the scripts and the cross-service tests. The scenario runner itself is the
// command line (cli.ts); what other packages need of it is here.
export { launchChromium } from './fans/browser-fans.ts';
export { httpClient } from './fans/http-client.ts';
export { adminToken } from './fans/sign-in.ts';
export { checkInvariants } from './invariants/index.ts';
export { harnessMetrics } from './run/harness-metrics.ts';
export { Recorder } from './run/recorder.ts';
