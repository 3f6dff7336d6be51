import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { costsFrom } from '../src/sizing/costs.ts';
import { crowdProfileOf } from '../src/sizing/crowd-profile.ts';
import { figure, SizingInputError } from '../src/sizing/figure.ts';
import { loadFactorAt } from '../src/sizing/load-factor.ts';
import { HEADROOM_DEFAULTS, type Headroom, type OnSale, sizeOnSale } from '../src/sizing/on-sale-sizing.ts';
import { newestRun, readBenchQueue, readBenchSaga, readRun } from '../src/sizing/report-files.ts';
import { benchQueueShape, benchSagaShape, runReportShape } from '../src/sizing/report-shapes.ts';
import { predictRun } from '../src/sizing/run-prediction.ts';

const FIXTURES = resolve(import.meta.dirname, 'fixtures', 'sizing');
const MILLION = 'million-2026-12-06T11-00-00-000Z.json';
const SCALE_OUT = 'scale-out-2026-12-06T12-00-00-000Z.json';
const CLI = resolve(import.meta.dirname, '..', 'src', 'sizing', 'cli.ts');
const A_MILLION_FANS = ['--fans', '1000000', '--seats', '50000', '--arrival-minutes', '10'];

const json = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
const source = (report: string, file: string) => ({ report, file, measuredAt: 'fixture', command: 'none' });

/** The fixtures' costs. */
function costs() {
  return costsFrom(
    {
      report: benchQueueShape.parse(json('bench-queue.json')),
      source: source('bench:queue', 'bench-queue.json'),
    },
    {
      report: benchSagaShape.parse(json('bench-saga.json')),
      source: source('bench:saga', 'bench-saga.json'),
    },
  );
}

function crowd() {
  const run = runReportShape.parse(json(MILLION));
  return crowdProfileOf(run, source('million run', MILLION), figure(120, 'the fixture scenario'));
}

function anOnSale(o: Partial<Record<keyof OnSale, number>> = {}): OnSale {
  const f = (k: keyof OnSale, d: number) => figure(o[k] ?? d, `test ${k}`);
  return {
    fans: f('fans', 1_000_000),
    seats: f('seats', 50_000),
    arrivalMinutes: f('arrivalMinutes', 10),
    events: f('events', 1),
    sellOutMinutes: f('sellOutMinutes', 10),
    signInShare: f('signInShare', 1),
  };
}

const headroom = (): Headroom =>
  Object.fromEntries(
    Object.entries(HEADROOM_DEFAULTS).map(([k, v]) => [k, figure(v, `${k} (default)`)]),
  ) as unknown as Headroom;

const component = (s: ReturnType<typeof sizeOnSale>, name: string) => {
  const c = s.components.find((x) => x.component === name);
  assert.ok(c, `no component ${name}`);
  return c;
};

const close = (actual: number, expected: number, what: string) =>
  assert.ok(
    Math.abs(actual - expected) <= Math.abs(expected) * 1e-9 + 1e-12,
    `${what}: ${actual}, expected ${expected}`,
  );

function tempReports(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'sizing-'));
  for (const f of files) copyFileSync(join(FIXTURES, f), join(dir, f));
  return dir;
}

function sizing(argv: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...argv], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('the sizing model', () => {
  // The fixtures' figures, worked by hand: 1,000,000 fans over 600 s arrive at 5,000/s at the peak (the million
  // run's busiest 5 s held 3× its mean); 50,000 seats at 2.5 a booking are 20,000 bookings, 24,000 reservations,
  // 25,000 admissions, 41.67 admissions/s over the 10 min sell-out; 975,000 fans wait, 1,250 near the front.
  it("sizes an on-sale from the reports' figures: the admission rate the seats imply, the crowd waiting, the peak joins", () => {
    const s = sizeOnSale(costs(), crowd(), anOnSale(), headroom());
    close(s.crowd.arrivalPeakFactor.value, 3, 'arrival peak factor');
    close(s.peak.joinsPerSecond.value, 5000, 'joins/s at the peak');
    close(s.peak.admissionsPerSecond.value, 25_000 / 600, 'admissions/s');
    close(s.peak.reservationsPerSecond.value, 40, 'reservations/s');
    close(s.peak.waitingFans.value, 975_000, 'waiting fans');
    close(s.peak.nearFans.value, 1250, 'fans near the front');
    close(s.peak.edgeStatusPerSecond.value, 973_750 * 0.02, 'edge status reads/s');
  });

  it("prices each service's work with its own measured cost, so a cost read from the wrong field shows", () => {
    const s = sizeOnSale(costs(), crowd(), anOnSale(), headroom());
    // joins ÷ joinsPerSecond (the first signed request of a token, not warmJoinsPerSecond) + near-front reads ÷
    // reads/s + edge misses ÷ origin status/s + reservations × ticket-service's CPU per booking.
    close(
      component(s, 'ticket-service').load.value,
      5000 / 3000 + 625 / 4000 + 9.7375 / 5000 + 40 * 0.0015,
      'ticket-service busy cores',
    );
    assert.equal(component(s, 'ticket-service').units, 3);
    close(component(s, 'payment-service').load.value, 40 * 0.0012, 'payment-service busy cores');
    // A sign-in at production's cost: 3 ms measured, its 0.5 ms hash at 2^8 swapped for 250 ms at 2^17.
    close(
      component(s, 'account-service').load.value,
      5000 * (0.003 - 0.0005 + 0.25),
      'account-service busy cores',
    );
    assert.equal(component(s, 'account-service').units, Math.ceil((5000 * 0.2525) / (0.7 - 0.01)));
    close(
      component(s, 'postgres (ticket-service)').load.value,
      40 * 0.002,
      "ticket-service's database cores",
    );
    close(
      component(s, 'postgres (payment-service)').load.value,
      40 * 0.0015,
      "payment-service's database cores",
    );
    close(
      component(s, 'postgres (account-service)').load.value,
      5000 * 0.0005,
      "account-service's database cores",
    );
    // One event's queue costs its commands a second whatever its crowd: 975,000 waiting fans add nothing of their own.
    close(component(s, 'redis').load.value, 5000 * 3 + 1 * 160 + 40 * 0.5, 'Redis commands/s');
  });

  it('gives each saga topic the partitions its messages need, and no fewer than its consumers have replicas', () => {
    const s = sizeOnSale(costs(), crowd(), anOnSale(), headroom());
    // 40 messages/s against 1 × 250 reservations/s ÷ 6 partitions at saturation, at 70%.
    assert.equal(component(s, 'kafka saga.reservation.created').units, Math.ceil(40 / ((250 / 6) * 0.7)));
    // Ten times the seats: ticket-service's replicas outnumber what completed payments alone would need.
    const big = sizeOnSale(costs(), crowd(), anOnSale({ seats: 500_000, fans: 10_000_000 }), headroom());
    const replicas = component(big, 'ticket-service').units;
    assert.ok(component(big, 'kafka saga.payment.completed').units >= replicas);
    assert.match(
      component(big, 'kafka saga.payment.completed').unitName,
      new RegExp(`≥ ${replicas} for ticket-service`),
    );
  });

  it("names one event's queue on one Redis shard as the first wall, and how far the sale can grow before it", () => {
    const s = sizeOnSale(costs(), crowd(), anOnSale(), headroom());
    const shard = 5000 / 20_000 + (160 + 40 * 0.5) / 80_000;
    assert.equal(s.firstWall?.component, 'redis');
    close(s.firstWall!.share, shard / 0.7, 'share of the shard');
    close(s.firstWall!.growth, 0.7 / shard, 'growth before the wall');
  });

  it('finds a crowd too big for one event past the wall, and the same crowd spread over events short of it', () => {
    const one = sizeOnSale(costs(), crowd(), anOnSale({ fans: 3_000_000, seats: 150_000 }), headroom());
    assert.ok(one.firstWall!.share > 1, `one event: ${one.firstWall!.share}`);
    const three = sizeOnSale(
      costs(),
      crowd(),
      anOnSale({ fans: 3_000_000, seats: 150_000, events: 3 }),
      headroom(),
    );
    assert.ok(three.firstWall!.share < 1, `three events: ${three.firstWall!.share}`);
    assert.equal(component(three, 'redis').units, component(one, 'redis').units);
  });

  it('says where every figure came from: a report field, a flag, a parameter or a formula over them', () => {
    const s = sizeOnSale(costs(), crowd(), anOnSale(), headroom());
    const unsourced: string[] = [];
    const walk = (x: unknown, path: string) => {
      if (x === null || typeof x !== 'object') return;
      const o = x as Record<string, unknown>;
      if (typeof o.value === 'number' && (typeof o.from !== 'string' || o.from.trim() === ''))
        unsourced.push(path);
      for (const [k, v] of Object.entries(o)) walk(v, `${path}.${k}`);
    };
    walk(s, 'sizing');
    assert.deepEqual(unsourced, []);
    assert.match(
      component(s, 'payment-service').load.from,
      /bench-saga\.json saturation\.cpuSecondsPerBooking\.payment-service/,
    );
    assert.match(s.headroom.replicaUtilisation.from, /default/);
  });

  it('refuses seats the crowd cannot buy rather than sizing a sale that never sells out', () => {
    assert.throws(
      () => sizeOnSale(costs(), crowd(), anOnSale({ fans: 20_000, seats: 50_000 }), headroom()),
      (e: Error) => e instanceof SizingInputError && /does not sell the house/.test(e.message),
    );
  });
});

describe("the sizing's reports", () => {
  it("takes the newest run report that has the blocks it reads, passing over older runs' reports and unpublishable ones", () => {
    const dir = tempReports([MILLION]);
    try {
      const old = json(MILLION);
      delete old.processes;
      writeFileSync(join(dir, 'million-2026-12-07T00-00-00-000Z.json'), JSON.stringify(old));
      const bottleneck = join(dir, 'million-2026-12-07T01-00-00-000Z.json');
      writeFileSync(bottleneck, JSON.stringify({ ...json(MILLION), figuresPublishable: false }));
      assert.throws(() => readRun(bottleneck, 'million run'), /load generator was the bottleneck/);
      const run = newestRun(dir, 'million', 'million run');
      assert.equal(run.source.file, join(dir, MILLION));
      assert.equal(run.arrivalWindow.value, 120);
      utimesSync(join(dir, MILLION), new Date(0), new Date(0));
      assert.equal(newestRun(dir, 'million', 'million run').source.file, join(dir, MILLION));
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('names the command that writes a report that is missing, or one written before the figures it needs', () => {
    const dir = tempReports(['bench-queue.json']);
    try {
      assert.throws(() => readBenchSaga(dir), /no .*bench-saga\.json: run npm run bench:saga/);
      assert.throws(() => newestRun(dir, 'million', 'million run'), /run npm run scenario -- million/);
      const saga = json('bench-saga.json');
      delete saga.saturation.postgresCpuSecondsPerBooking;
      writeFileSync(join(dir, 'bench-saga.json'), JSON.stringify(saga));
      assert.throws(
        () => readBenchSaga(dir),
        /saturation\.postgresCpuSecondsPerBooking[\s\S]*run npm run bench:saga to write it again/,
      );
      assert.equal(readBenchQueue(dir).report.joinsPerSecond, 3000);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('npm run sizing', () => {
  it('prints the table from the reports, with each report, its date and the first wall', () => {
    const dir = tempReports(['bench-queue.json', 'bench-saga.json', MILLION]);
    try {
      const r = sizing([...A_MILLION_FANS, '--reports', dir]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /bench-saga\.json +2026-12-06T10:30:00\.000Z/);
      assert.match(r.out, /ticket-service +1\.88 busy cores .* 3 replicas/);
      assert.match(r.out, /first wall: redis/);
      const asJson = sizing([...A_MILLION_FANS, '--reports', dir, '--json']);
      assert.equal(JSON.parse(asJson.out).firstWall.component, 'redis');
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('exits 2 naming the command to run when a report is missing, never sizing from constants', () => {
    const dir = tempReports(['bench-queue.json', 'bench-saga.json']);
    try {
      const r = sizing([...A_MILLION_FANS, '--reports', dir]);
      assert.equal(r.code, 2);
      assert.equal(r.out, '');
      assert.match(r.err, /million-\*\.json .*run npm run scenario -- million/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('exits 2 with the usage on a bad or missing flag', () => {
    for (const argv of [
      ['--fans', 'many', '--seats', '5', '--arrival-minutes', '1'],
      ['--fans', '1000', '--seats', '5'],
      ['--fans', '1000', '--seats', '5', '--arrival-minutes', '1', '--sign-in-share', '2'],
      ['--fans', '1000', '--seats', '5', '--arrival-minutes', '1', '--fast'],
    ]) {
      const r = sizing(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.err, /usage: npm run sizing/);
    }
    assert.match(sizing(['--fans', 'many']).err, /--fans takes a whole number above 0, not "many"/);
  });
});

describe('what a unit of work costs below saturation', () => {
  const points = [
    { perSecond: 100, factor: 2 },
    { perSecond: 300, factor: 1.5 },
    { perSecond: 1000, factor: 1.2 },
  ];

  it('reads the factor along straight lines between the paced points, and down to 1 at the saturated rate', () => {
    assert.equal(loadFactorAt(points, 5000, 100), 2);
    close(loadFactorAt(points, 5000, 200), 1.75, 'halfway from 100/s to 300/s');
    close(loadFactorAt(points, 5000, 650), 1.35, 'halfway from 300/s to 1,000/s');
    close(loadFactorAt(points, 5000, 3000), 1.1, 'halfway from 1,000/s to the saturated 5,000/s');
    assert.equal(loadFactorAt(points, 5000, 5000), 1);
    assert.equal(loadFactorAt(points, 5000, 9000), 1);
  });

  it("keeps the slowest point's factor below it, and leaves out points at or past the saturated rate", () => {
    assert.equal(loadFactorAt(points, 5000, 10), 2);
    close(
      loadFactorAt(points, 800, 550),
      1.25,
      'halfway from 300/s to a saturated 800/s, past which 1,000/s is left out',
    );
  });

  it('refuses a bench report whose paced rates do not rise, or that has fewer than two', () => {
    const saga = json('bench-saga.json');
    const withTicket = (ticket: unknown) => ({
      ...saga,
      loadFactor: { ...saga.loadFactor, 'ticket-service': ticket },
    });
    assert.equal(benchSagaShape.safeParse(withTicket([...points].reverse())).success, false);
    assert.equal(benchSagaShape.safeParse(withTicket(points.slice(0, 1))).success, false);
    assert.equal(
      benchSagaShape.safeParse(withTicket([{ perSecond: 50, factor: 0.5 }, ...points])).success,
      false,
    );
    assert.equal(benchSagaShape.safeParse(withTicket(points)).success, true);
    // A report from before the figures is refused, so the benches are run again rather than a factor taken as 1.
    const { loadFactor: _s, ...olderSaga } = saga;
    assert.equal(benchSagaShape.safeParse(olderSaga).success, false);
    const { idleCores: _q, ...olderQueue } = json('bench-queue.json');
    assert.equal(benchQueueShape.safeParse(olderQueue).success, false);
  });
});

describe("the model's prediction of a run's services", () => {
  const scaleOut = (edit: (r: z.input<typeof runReportShape>) => void = () => {}) => {
    const r: z.input<typeof runReportShape> = json(SCALE_OUT);
    edit(r);
    return runReportShape.parse(r);
  };

  it("prices the run's own work with the benches' costs and each process's idle over the sampled stretch", () => {
    const p = predictRun(costs(), scaleOut(), source('scale-out run', SCALE_OUT));
    const ticket = p.services.find((s) => s.service === 'ticket-service')!;
    // 20,000 joins ÷ 3,000/s + 40,000 place reads ÷ 4,000/s + 300 status reads ÷ 5,000/s + 1,600 × 1.5 ms, and
    // 8,000 signature checks × 0.12 ms (29,600 checked, less one in each join and each booking): 20.09 CPU-s at
    // saturation, 13,391 bookings' worth at 1.5 ms each, over three replicas and 150 s (29.8/s: between 1.5 at 10/s
    // and 1.2 at 100/s), and three processes at 0.02 cores idle over the 150 s stretch (36 CPU-s ÷ 0.24 cores).
    const work = 20_000 / 3000 + 10 + 0.06 + 2.4 + 8000 * 0.00012;
    const perReplicaSecond = work / 0.0015 / (3 * 150);
    const factor = 1.5 - (0.3 * (perReplicaSecond - 10)) / 90;
    close(ticket.predictedCpuSeconds.value, work * factor + 3 * 0.02 * 150, 'ticket-service CPU-s');
    assert.match(ticket.predictedCpuSeconds.from, /8,000 token checks × 0\.12 ms \(.*tokenCheckSeconds\)/);
    assert.match(
      ticket.predictedCpuSeconds.from,
      /× 1\.43, its cost at 29\.8 bookings' worth of saturated CPU\/s per replica/,
    );
    close(ticket.stretchSeconds, 150, 'stretch');
    const payment = p.services.find((s) => s.service === 'payment-service')!;
    // 1,600 reservations over two replicas and 150 s (5.3/s): below the slowest paced point, its factor (1.5).
    close(payment.predictedCpuSeconds.value, 1600 * 0.0012 * 1.5 + 2 * 0.01 * 150, 'payment-service CPU-s');
    assert.ok(p.pass, JSON.stringify(p.services.map((s) => [s.service, s.error])));
    assert.equal(p.services.find((s) => s.service === 'payment-provider')?.judged, false);
  });

  it('fails a service whose measured cores are more than 25% away from the prediction', () => {
    const p = predictRun(
      costs(),
      scaleOut((r) => {
        r.processes.services['ticket-service']!.cpuSeconds = 20;
        r.processes.services['ticket-service']!.meanCores = 20 / 150;
      }),
      source('scale-out run', SCALE_OUT),
    );
    assert.equal(p.pass, false);
    assert.equal(p.services.find((s) => s.service === 'ticket-service')?.pass, false);
    assert.equal(p.services.find((s) => s.service === 'payment-service')?.pass, true);
  });

  it('prices no further check where every token was checked once, and refuses a run that did not count them', () => {
    const once = predictRun(
      costs(),
      scaleOut((r) => {
        r.waitingRoom.tokenChecks = { signature: 21_000, remembered: 0 };
      }),
      source('scale-out run', SCALE_OUT),
    );
    assert.doesNotMatch(once.services[0]!.predictedCpuSeconds.from, /token checks/);
    assert.throws(
      () =>
        predictRun(
          costs(),
          scaleOut((r) => delete r.waitingRoom.tokenChecks),
          source('scale-out run', SCALE_OUT),
        ),
      /no waitingRoom\.tokenChecks.*scenario:scale-out again/,
    );
  });

  it('refuses a run that sampled no CPU for a service it judges', () => {
    assert.throws(
      () =>
        predictRun(
          costs(),
          scaleOut((r) => delete r.processes.services['payment-service']),
          source('scale-out run', SCALE_OUT),
        ),
      /no processes\.services\.payment-service/,
    );
  });

  it("reads a run report's arrival from its scenario file when the report does not carry it", () => {
    const dir = tempReports([SCALE_OUT]);
    try {
      const run = readRun(join(dir, SCALE_OUT), 'scale-out run');
      // scenarios/scale-out.json: 20 s before the opening and 40 s after it.
      assert.equal(run.arrivalWindow.value, 60);
      assert.match(run.arrivalWindow.from, /scenarios\/scale-out\.json/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
