// npm run sizing -- --fans N --seats S --arrival-minutes M [...]: the nodes an on-sale needs, from what this machine
// measured (bench:queue, bench:saga and the million run), and the wall it meets first (docs/scale.md).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { costsFrom } from './costs.ts';
import { crowdProfileOf } from './crowd-profile.ts';
import { type Figure, figure, SizingInputError } from './figure.ts';
import { HEADROOM_DEFAULTS, type Headroom, type OnSale, sizeOnSale } from './on-sale-sizing.ts';
import { newestRun, readBenchQueue, readBenchSaga } from './report-files.ts';
import { renderSizing } from './sizing-table.ts';

const USAGE = `usage: npm run sizing -- --fans N --seats S --arrival-minutes M [options]

  --fans N                fans who come for the on-sale
  --seats S               seats on sale (all events together)
  --arrival-minutes M     minutes over which the fans arrive, in the shape the million run's crowd arrived
options:
  --events E              events the fans and seats are spread over evenly (default 1); each event's queue
                          lives on one Redis shard
  --sell-out-minutes T    minutes the seats take to sell, which sets the admission rate (default: M)
  --sign-in-share X       share of the fans who sign in as they arrive, 0 to 1 (default 1)
  --utilisation U         the most of a unit the load may use: replicas' cores, Redis shards, Kafka partitions,
                          database cores, edge nodes (default ${HEADROOM_DEFAULTS.replicaUtilisation})
  --max-database-cores C  the largest PostgreSQL primary one can run (default ${HEADROOM_DEFAULTS.maxDatabaseCores})
  --reports DIR           where the reports are (default reports/)
  --json                  print the model's result as JSON instead of the table
  -h, --help              this text

reads reports/bench-queue.json (npm run bench:queue), reports/bench-saga.json (npm run bench:saga) and the newest
reports/million-*.json (npm run scenario -- million). exit code: 0 sized, 2 on bad usage or a missing report`;

class UsageError extends Error {}

function number(
  flag: string,
  raw: string | undefined,
  rule: { integer?: boolean; max?: number; zeroAllowed?: boolean } = {},
): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  const ok =
    raw.trim() !== '' &&
    Number.isFinite(n) &&
    (rule.zeroAllowed ? n >= 0 : n > 0) &&
    (!rule.integer || Number.isInteger(n)) &&
    (rule.max === undefined || n <= rule.max);
  if (!ok)
    throw new UsageError(
      `${flag} takes ${rule.integer ? 'a whole number' : 'a number'} ${rule.zeroAllowed ? 'from 0' : 'above 0'}${rule.max === undefined ? '' : ` up to ${rule.max}`}, not "${raw}"`,
    );
  return n;
}

function required(flag: string, n: number | undefined): Figure {
  if (n === undefined) throw new UsageError(`${flag} is required`);
  return figure(n, flag);
}

const orDefault = (flag: string, n: number | undefined, fallback: Figure): Figure =>
  n === undefined ? fallback : figure(n, flag);

function parseSizingArgs(argv: string[]) {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        fans: { type: 'string' },
        seats: { type: 'string' },
        'arrival-minutes': { type: 'string' },
        events: { type: 'string' },
        'sell-out-minutes': { type: 'string' },
        'sign-in-share': { type: 'string' },
        utilisation: { type: 'string' },
        'max-database-cores': { type: 'string' },
        reports: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const text = (k: string) => values[k] as string | undefined;
  if (values.help) return 'help' as const;
  const fans = required('--fans', number('--fans', text('fans'), { integer: true }));
  const seats = required('--seats', number('--seats', text('seats'), { integer: true }));
  const arrival = required('--arrival-minutes', number('--arrival-minutes', text('arrival-minutes')));
  const onSale: OnSale = {
    fans,
    seats,
    arrivalMinutes: arrival,
    events: orDefault(
      '--events',
      number('--events', text('events'), { integer: true }),
      figure(1, 'default'),
    ),
    sellOutMinutes: orDefault(
      '--sell-out-minutes',
      number('--sell-out-minutes', text('sell-out-minutes')),
      figure(arrival.value, 'default: --arrival-minutes'),
    ),
    signInShare: orDefault(
      '--sign-in-share',
      number('--sign-in-share', text('sign-in-share'), { max: 1, zeroAllowed: true }),
      figure(1, 'default'),
    ),
  };
  const utilisation = number('--utilisation', text('utilisation'), { max: 1 });
  const util = (name: keyof typeof HEADROOM_DEFAULTS) =>
    orDefault('--utilisation', utilisation, figure(HEADROOM_DEFAULTS[name], `${name} (default)`));
  const headroom: Headroom = {
    replicaUtilisation: util('replicaUtilisation'),
    redisShardUtilisation: util('redisShardUtilisation'),
    partitionUtilisation: util('partitionUtilisation'),
    databaseUtilisation: util('databaseUtilisation'),
    edgeUtilisation: util('edgeUtilisation'),
    maxDatabaseCores: orDefault(
      '--max-database-cores',
      number('--max-database-cores', text('max-database-cores')),
      figure(HEADROOM_DEFAULTS.maxDatabaseCores, 'maxDatabaseCores (default)'),
    ),
  };
  return { onSale, headroom, reports: resolve(text('reports') ?? 'reports'), json: values.json === true };
}

function main(argv: string[]): number {
  try {
    const args = parseSizingArgs(argv);
    if (args === 'help') {
      console.log(USAGE);
      return 0;
    }
    const costs = costsFrom(readBenchQueue(args.reports), readBenchSaga(args.reports));
    const million = newestRun(args.reports, 'million', 'million run');
    const crowd = crowdProfileOf(million.report, million.source, million.arrivalWindow);
    const sizing = sizeOnSale(costs, crowd, args.onSale, args.headroom);
    console.log(args.json ? JSON.stringify(sizing, null, 2) : renderSizing(sizing));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`sizing: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof SizingInputError) {
      console.error(`sizing: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = main(process.argv.slice(2));
