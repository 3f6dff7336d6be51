import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { DASHBOARDS, drawingOf } from '../src/control/dashboards.ts';
import type { Panel } from '../src/control/prometheus.ts';

const folder = new URL('../../dashboards/', import.meta.url);
const files = readdirSync(folder).filter((name) => name.endsWith('.json'));
const onDisk = files.map(
  (name) =>
    JSON.parse(readFileSync(new URL(name, folder), 'utf8')) as {
      uid: string;
      title: string;
      panels: Panel[];
    },
);

describe('web: the control room shows every dashboard in dashboards/', () => {
  it('offers every dashboards/*.json in its picker, by its title, opening on the Flash-sale overview', () => {
    assert.equal(files.length, 5);
    assert.deepEqual(DASHBOARDS.map((d) => d.title).sort(), onDisk.map((d) => d.title).sort());
    assert.equal(DASHBOARDS[0]?.uid, 'reservex-flash-sale');
  });

  it('draws or shows the PromQL of every panel of every dashboard, so none disappears', () => {
    for (const dashboard of onDisk)
      for (const panel of dashboard.panels) {
        const drawing = drawingOf(panel);
        if (drawing === 'query-only')
          assert.ok(panel.targets.length > 0, `${dashboard.title}: ${panel.title} has no query to show`);
        else assert.equal(drawing, panel.type, `${dashboard.title}: ${panel.title}`);
      }
  });

  it('shows a panel type it cannot draw by its PromQL instead of an empty chart', () => {
    const table: Panel = {
      type: 'table',
      title: 'Seats by section',
      targets: [{ expr: 'sum by (section) (seats)' }],
    };
    assert.equal(drawingOf(table), 'query-only');
    assert.equal(drawingOf({ ...table, type: 'timeseries' }), 'timeseries');
    assert.equal(drawingOf({ ...table, type: 'stat' }), 'stat');
  });
});
