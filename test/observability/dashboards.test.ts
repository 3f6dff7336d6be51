import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { harnessMetrics, Recorder } from '@reservex/loadgen';
import { type SagaStack, startSagaStack } from '../support/saga-stack.ts';
import {
  DASHBOARD_SCHEMA_VERSION,
  DATASOURCE_UID,
  type Dashboard,
  dashboardSchema,
  exposedNames,
  metricNames,
  PROMETHEUS_SYNTHETIC,
  unknownMetrics,
} from './dashboard-check.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const DASHBOARD_DIR = join(ROOT, 'dashboards');
const files = readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json'));
const ALERT_DIR = join(ROOT, 'alerts');
const alertFiles = readdirSync(ALERT_DIR).filter((f) => f.endsWith('.yml'));

/** Each alert's expression (one line each, as alerts/ writes them), by alert name. */
function alertExpressions(text: string): Array<{ alert: string; expr: string }> {
  const found: Array<{ alert: string; expr: string }> = [];
  let alert = '';
  for (const line of text.split('\n')) {
    const name = /^\s*- alert:\s*(\S+)/.exec(line);
    if (name !== null) alert = name[1]!;
    const expr = /^\s*expr:\s*(.+)$/.exec(line);
    if (expr !== null) found.push({ alert, expr: expr[1]!.trim() });
  }
  return found;
}

describe('the dashboards', () => {
  let stack: SagaStack;
  let exposed: Set<string>;

  before(async () => {
    stack = await startSagaStack();
    // Some series appear only once something happened: one booking through the saga fills them in.
    const fan = await stack.newUser();
    const event = await stack.createEvent();
    const reserved = await stack.reserve(fan.token, event.id, [event.seatIds[0]!]);
    assert.equal(reserved.status, 202);
    await stack.waitForReservation(reserved.body.id, 'CONFIRMED');
    const scrape = async (url: string) => (await fetch(`${url}/metrics`)).text();
    const texts = await Promise.all([
      scrape(stack.account.url),
      scrape(stack.ticketUrl),
      scrape(stack.paymentUrl()!),
      scrape(stack.provider.url),
      harnessMetrics(new Recorder(1), 'test').metricsText(),
    ]);
    exposed = new Set([...texts.flatMap((t) => [...exposedNames(t)]), ...PROMETHEUS_SYNTHETIC]);
  });
  after(() => stack?.stop());

  it('ships the five dashboards the flash sale is watched with', () => {
    assert.deepEqual(files.sort(), [
      'flash-sale-overview.json',
      'infrastructure.json',
      'saga-health.json',
      'services-red.json',
      'waiting-room.json',
    ]);
  });

  for (const file of files) {
    it(`${file} fits the dashboard file format at schema version ${DASHBOARD_SCHEMA_VERSION} and queries only exposed metrics`, () => {
      const parsed = dashboardSchema.safeParse(JSON.parse(readFileSync(join(DASHBOARD_DIR, file), 'utf8')));
      assert.ok(
        parsed.success,
        parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'),
      );
      assert.deepEqual(unknownMetrics(parsed.data, exposed), []);
    });
  }

  it('every panel and query reads the one Prometheus datasource, and dashboard uids are unique', () => {
    const dashboards = files.map(
      (f) => JSON.parse(readFileSync(join(DASHBOARD_DIR, f), 'utf8')) as Dashboard,
    );
    for (const d of dashboards)
      for (const p of d.panels) {
        assert.equal(p.datasource.uid, DATASOURCE_UID, `${d.uid} / ${p.title}`);
        for (const t of p.targets)
          assert.equal(t.datasource.uid, DATASOURCE_UID, `${d.uid} / ${p.title} / ${t.refId}`);
      }
    assert.equal(new Set(dashboards.map((d) => d.uid)).size, dashboards.length);
  });

  it('the check catches a misspelt metric and a panel outside the grid', () => {
    const d = JSON.parse(readFileSync(join(DASHBOARD_DIR, 'saga-health.json'), 'utf8')) as Dashboard;
    d.panels[0]!.targets[0]!.expr = 'sum by (stage) (rate(saga_stages_total[30s]))';
    assert.deepEqual(unknownMetrics(d, exposed), ['reservex-saga / "Stage rates" / A: saga_stages_total']);
    d.panels[0]!.gridPos.x = 20;
    assert.equal(dashboardSchema.safeParse(d).success, false);
  });

  it('reads metric names out of PromQL, leaving functions, labels and keywords alone', () => {
    assert.deepEqual(
      metricNames(
        'histogram_quantile(0.99, sum by (le, stage) (rate(saga_stage_duration_seconds_bucket{stage="confirmed"}[1m]))) / on (service) group_left up',
      ),
      ['saga_stage_duration_seconds_bucket', 'up'],
    );
  });

  it('every alert rule in alerts/ is valid for promtool and names only metrics the services expose', () => {
    assert.ok(alertFiles.length > 0);
    const paths = alertFiles.map((f) => join(ALERT_DIR, f));
    const checked = spawnSync('promtool', ['check', 'rules', ...paths], { encoding: 'utf8' });
    assert.equal(checked.status, 0, `${checked.stdout}${checked.stderr}`);
    const unknown = alertFiles.flatMap((f) =>
      alertExpressions(readFileSync(join(ALERT_DIR, f), 'utf8')).flatMap(({ alert, expr }) =>
        metricNames(expr)
          .filter((m) => !exposed.has(m))
          .map((m) => `${f} / ${alert}: ${m}`),
      ),
    );
    assert.deepEqual(unknown, []);
    assert.ok(alertFiles.every((f) => alertExpressions(readFileSync(join(ALERT_DIR, f), 'utf8')).length > 0));
  });

  it('the alert check catches a misspelt metric', () => {
    const [rule] = alertExpressions('  - alert: Typo\n    expr: payments_in_dout > 0\n');
    assert.deepEqual(
      metricNames(rule!.expr).filter((m) => !exposed.has(m)),
      ['payments_in_dout'],
    );
  });

  it('prometheus.yml loads the alert rules and scrapes the three services and the harness', () => {
    const config = readFileSync(join(ROOT, 'prometheus.yml'), 'utf8');
    assert.match(config, /rule_files:\s*\n\s*- alerts\/\*\.yml/);
    for (const port of [8080, 8081, 8082, 9464]) assert.match(config, new RegExp(`127\\.0\\.0\\.1:${port}`));
  });
});
