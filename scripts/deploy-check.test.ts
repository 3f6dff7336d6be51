import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkDeployment, type DeploymentFiles } from './deploy-check.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** The repository's deployment files, copied so that a test can break one. */
function copies(): DeploymentFiles & { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'reservex-deploy-'));
  cpSync(join(ROOT, 'deploy/helm/reservex'), join(dir, 'chart'), { recursive: true });
  cpSync(join(ROOT, 'Dockerfile'), join(dir, 'Dockerfile'));
  cpSync(join(ROOT, 'docker-compose.yml'), join(dir, 'docker-compose.yml'));
  return {
    dir,
    chart: join(dir, 'chart'),
    dockerfile: join(dir, 'Dockerfile'),
    compose: join(dir, 'docker-compose.yml'),
    outDir: join(dir, 'out'),
  };
}

function edit(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.includes(from), `${from} not in ${file}`);
  writeFileSync(file, text.replace(from, to));
}

const failing = (files: DeploymentFiles) =>
  checkDeployment(files)
    .filter((v) => !v.ok)
    .map((v) => v.check);

describe('deploy:check (hadolint, helm, kubernetes-validate, the Compose schema)', function () {
  // The first run on a machine installs the tools (Helm is built from its Go module).
  this.timeout(900_000);
  let files: ReturnType<typeof copies>;
  beforeEach(() => {
    files = copies();
  });
  afterEach(() => rmSync(files.dir, { recursive: true, force: true }));

  it('passes the repository’s Dockerfile, chart and compose file', () => {
    assert.deepEqual(failing(files), []);
  });

  it('fails a Deployment with a field the Kubernetes API does not have', () => {
    edit(
      join(files.chart, 'templates/deployment.yaml'),
      'revisionHistoryLimit: 5',
      'revisionHistoryLimit: 5\n  replicaCount: 3',
    );
    assert.deepEqual(
      failing(files).map((c) => c.split(' ')[0]),
      ['kubernetes-validate'],
    );
  });

  it('fails a chart whose template does not render', () => {
    edit(join(files.chart, 'templates/service.yaml'), '{{ $s.port }}', '{{ $s.port | nosuchfunction }}');
    assert.ok(failing(files).some((c) => c.startsWith('helm')));
  });

  it('fails a Dockerfile that runs the service as root', () => {
    edit(files.dockerfile, 'USER node', 'USER root');
    assert.deepEqual(
      failing(files).map((c) => c.split(' ')[0]),
      ['hadolint'],
    );
  });

  it('fails a compose file that breaks the Compose specification', () => {
    edit(
      files.compose,
      '    image: postgres:16-alpine',
      '    image: postgres:16-alpine\n    restart_policy: always',
    );
    assert.deepEqual(failing(files).length, 1);
    assert.match(failing(files)[0] ?? '', /Compose specification/);
  });
});
