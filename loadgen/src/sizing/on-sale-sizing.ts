import type { Costs, ServiceCosts } from './costs.ts';
import type { CrowdProfile } from './crowd-profile.ts';
import { type Figure, figure, type ReportSource, SizingInputError } from './figure.ts';
import { serviceDemand, short } from './service-demand.ts';

/** The on-sale to size: what the operator knows before it starts. */
export interface OnSale {
  fans: Figure;
  seats: Figure;
  arrivalMinutes: Figure;
  /** Events the fans and seats are spread over, evenly: each event's queue lives on one Redis shard. */
  events: Figure;
  /** How long the seats take to sell: it sets the admission rate the sale needs. */
  sellOutMinutes: Figure;
  /** The share of the fans who sign in while arriving (the others are signed in already). */
  signInShare: Figure;
}

/** How much of a unit the sizing lets the load use, and the largest single database primary one can have. */
export interface Headroom {
  replicaUtilisation: Figure;
  redisShardUtilisation: Figure;
  partitionUtilisation: Figure;
  databaseUtilisation: Figure;
  edgeUtilisation: Figure;
  maxDatabaseCores: Figure;
}

export const HEADROOM_DEFAULTS = {
  replicaUtilisation: 0.7,
  redisShardUtilisation: 0.7,
  partitionUtilisation: 0.7,
  databaseUtilisation: 0.7,
  edgeUtilisation: 0.7,
  maxDatabaseCores: 64,
} as const satisfies Record<keyof Headroom, number>;

/** The load at the on-sale's busiest moment: the arrival peak, with the crowd waiting and the saga selling. */
export interface PeakLoad {
  arrivalsPerSecond: Figure;
  joinsPerSecond: Figure;
  signInsPerSecond: Figure;
  bookings: Figure;
  reservations: Figure;
  admissions: Figure;
  /** The admission rate the sale implies: the admissions it needs over the time it has to sell. */
  admissionsPerSecond: Figure;
  bookingsPerSecond: Figure;
  reservationsPerSecond: Figure;
  waitingFans: Figure;
  nearFans: Figure;
  farFans: Figure;
  edgeStatusPerSecond: Figure;
  placeReadsPerSecond: Figure;
  statusReadsPerSecond: Figure;
  redisCommandsPerSecond: Figure;
  kafkaMessagesPerSecond: Figure;
}

/** A limit more units cannot move: one event's queue on one shard, one primary per service's database. */
export interface Wall {
  what: string;
  /** The load as a share of the limit: 1 or more is past it. */
  share: number;
  limit: Figure;
}

export interface ComponentSizing {
  component: string;
  /** The load at the peak, in `loadUnit`. */
  load: Figure;
  loadUnit: string;
  /** What one unit carries here, as the sizing counts it (the measured capacity, less the headroom). */
  perUnit: Figure;
  units: number;
  unitName: string;
  wall: Wall | null;
}

export interface Sizing {
  sources: ReportSource[];
  onSale: OnSale;
  headroom: Headroom;
  crowd: CrowdProfile;
  peak: PeakLoad;
  components: ComponentSizing[];
  /** The wall nearest to being hit, and how many times this on-sale could grow before it is. */
  firstWall: { component: string; what: string; share: number; growth: number } | null;
}

const times = (a: Figure, b: Figure, from: string) => figure(a.value * b.value, from);

function peakLoad(costs: Costs, crowd: CrowdProfile, sale: OnSale): PeakLoad {
  const arrivalSeconds = sale.arrivalMinutes.value * 60;
  const sellSeconds = sale.sellOutMinutes.value * 60;
  const arrivalsPerSecond = figure(
    (sale.fans.value / arrivalSeconds) * crowd.arrivalPeakFactor.value,
    `fans ÷ arrival seconds × arrival peak factor (${short(crowd.arrivalPeakFactor.value)})`,
  );
  const bookings = figure(sale.seats.value / crowd.seatsPerBooking.value, 'seats ÷ seats per booking');
  const reservations = times(bookings, crowd.reservationsPerBooking, 'bookings × reservations per booking');
  const admissions = figure(
    bookings.value / crowd.bookingsPerAdmission.value,
    'bookings ÷ bookings per admission',
  );
  const admissionsPerSecond = figure(admissions.value / sellSeconds, 'admissions ÷ sell-out seconds');
  // The crowd waits longest when the last fans arrive, or when the seats run out, whichever comes first.
  const until = Math.min(arrivalSeconds, sellSeconds);
  const waitingFans = figure(
    Math.max(0, (sale.fans.value * until) / arrivalSeconds - admissionsPerSecond.value * until),
    'fans arrived − fans admitted, at the end of the arrivals or at the sell-out, whichever is first',
  );
  // Little's law: as many fans are near the front as are admitted a second times the seconds each spends there.
  const nearFans = figure(
    Math.min(waitingFans.value, admissionsPerSecond.value * crowd.nearSecondsPerAdmission.value),
    'admissions/s × seconds near the front per admission (at most the waiting fans)',
  );
  const farFans = figure(waitingFans.value - nearFans.value, 'waiting fans − fans near the front');
  const reservationsPerSecond = figure(reservations.value / sellSeconds, 'reservations ÷ sell-out seconds');
  const joinsPerSecond = times(
    arrivalsPerSecond,
    crowd.joinsPerFan,
    'arrivals/s at the peak × joins per fan',
  );
  return {
    arrivalsPerSecond,
    joinsPerSecond,
    signInsPerSecond: times(arrivalsPerSecond, sale.signInShare, 'arrivals/s at the peak × sign-in share'),
    bookings,
    reservations,
    admissions,
    admissionsPerSecond,
    bookingsPerSecond: figure(bookings.value / sellSeconds, 'bookings ÷ sell-out seconds'),
    reservationsPerSecond,
    waitingFans,
    nearFans,
    farFans,
    edgeStatusPerSecond: times(
      farFans,
      crowd.edgePerFarFanSecond,
      'far fans × edge reads per far fan-second',
    ),
    placeReadsPerSecond: times(
      nearFans,
      crowd.nearOriginPerFanSecond,
      'near fans × origin reads per near fan-second',
    ),
    statusReadsPerSecond: times(
      farFans,
      crowd.farOriginPerFanSecond,
      'far fans × origin reads per far fan-second',
    ),
    redisCommandsPerSecond: figure(
      joinsPerSecond.value * costs.redis.commandsPerJoin.value +
        sale.events.value * costs.redis.commandsPerQueueSecond.value +
        reservationsPerSecond.value * costs.redis.commandsPerBooking.value,
      'joins/s × commands per join + events × a waiting queue’s commands a second + reservations/s × commands per booking',
    ),
    kafkaMessagesPerSecond: figure(
      costs.kafka.reduce((n, t) => n + reservationsPerSecond.value * t.messagesPerBooking.value, 0),
      'reservations/s × messages per booking, summed over the saga topics',
    ),
  };
}

/** Replicas of a service for `busy` cores: each runs at most at the utilisation target, less what it costs idle. */
function replicas(service: string, busy: Figure, idle: Figure, headroom: Headroom): ComponentSizing {
  const perUnit = figure(
    headroom.replicaUtilisation.value - idle.value,
    `one process: ${headroom.replicaUtilisation.value} of a core (${headroom.replicaUtilisation.from}) − ${short(idle.value)} idle (${idle.from})`,
  );
  if (perUnit.value <= 0)
    throw new SizingInputError(
      `${service} costs ${idle.value} of a core idle (${idle.from}), at or over the utilisation target ${headroom.replicaUtilisation.value}: no replica has room for work`,
    );
  return {
    component: service,
    load: busy,
    loadUnit: 'busy cores',
    perUnit,
    units: Math.max(1, Math.ceil(busy.value / perUnit.value)),
    unitName: 'replicas',
    wall: null,
  };
}

function database(
  service: string,
  cores: Figure,
  statementsPerSecond: Figure | null,
  headroom: Headroom,
): ComponentSizing {
  const needed = cores.value / headroom.databaseUtilisation.value;
  return {
    component: `postgres (${service})`,
    load:
      statementsPerSecond === null
        ? cores
        : figure(
            cores.value,
            `${cores.from}; ${short(statementsPerSecond.value)} statements/s (${statementsPerSecond.from})`,
          ),
    loadUnit: 'busy cores',
    perUnit: figure(headroom.databaseUtilisation.value, `one core at ${headroom.databaseUtilisation.from}`),
    units: Math.max(1, Math.ceil(needed)),
    unitName: 'cores (one primary)',
    wall: {
      what: `${service}'s one PostgreSQL primary`,
      share: needed / headroom.maxDatabaseCores.value,
      limit: headroom.maxDatabaseCores,
    },
  };
}

/**
 * The nodes an on-sale needs, component by component, and the wall it meets first. Pure: every figure comes from
 * `costs` (bench:queue, bench:saga), `crowd` (the million run), `sale` (the flags) or `headroom` (named parameters).
 */
export function sizeOnSale(costs: Costs, crowd: CrowdProfile, sale: OnSale, headroom: Headroom): Sizing {
  for (const [name, f] of Object.entries(sale))
    if (!(f.value > 0) && name !== 'signInShare')
      throw new SizingInputError(`${name} must be above 0 (${f.from})`);
  const peak = peakLoad(costs, crowd, sale);
  if (peak.admissions.value > sale.fans.value)
    throw new SizingInputError(
      `${short(sale.seats.value)} seats need ${short(peak.admissions.value)} fans admitted (${short(crowd.seatsPerBooking.value)} seats per booking, ${short(crowd.bookingsPerAdmission.value)} bookings per admission, as the ${crowd.source.report} behaved): more than the ${short(sale.fans.value)} fans who come; this crowd does not sell the house`,
    );
  const demand = serviceDemand(costs, {
    joins: peak.joinsPerSecond.value,
    placeReads: peak.placeReadsPerSecond.value,
    statusReads: peak.statusReadsPerSecond.value,
    reservations: peak.reservationsPerSecond.value,
    signIns: peak.signInsPerSecond.value,
    // A balancer that keeps each fan on one replica checks each token once (docs/scale.md); round robin checks it
    // again on each replica a fan near the front reaches, which the sizing check prices from the run's own count.
    tokenChecks: 0,
  });
  const service = (name: string, busy: Figure, c: Pick<ServiceCosts, 'idleCoresPerProcess'>) =>
    replicas(name, busy, c.idleCoresPerProcess, headroom);
  const ticket = service('ticket-service', demand.ticketService, costs.ticketService);
  const payment = service('payment-service', demand.paymentService, costs.paymentService);
  const account = service('account-service', demand.accountService, costs.accountService);

  const edgePerUnit = times(
    costs.edge.statusPerNodeSecond,
    headroom.edgeUtilisation,
    `${costs.edge.statusPerNodeSecond.from} × ${headroom.edgeUtilisation.from}`,
  );
  const edge: ComponentSizing = {
    component: 'edge (CDN)',
    load: peak.edgeStatusPerSecond,
    loadUnit: 'status reads/s',
    perUnit: edgePerUnit,
    units: Math.max(1, Math.ceil(peak.edgeStatusPerSecond.value / edgePerUnit.value)),
    unitName: 'edge nodes like this one',
    wall: null,
  };

  // Redis time: the join script at its own ceiling, every other command at a plain command's.
  const r = costs.redis;
  const shardSeconds =
    peak.joinsPerSecond.value / r.joinScriptsPerShardSecond.value +
    (sale.events.value * r.commandsPerQueueSecond.value +
      peak.reservationsPerSecond.value * r.commandsPerBooking.value) /
      r.commandsPerShardSecond.value;
  const perEvent = shardSeconds / sale.events.value;
  const redis: ComponentSizing = {
    component: 'redis',
    load: figure(
      peak.redisCommandsPerSecond.value,
      `${peak.redisCommandsPerSecond.from}; ${short(shardSeconds)} shards busy: joins/s ÷ ${short(r.joinScriptsPerShardSecond.value)} (${r.joinScriptsPerShardSecond.from}) + other commands/s ÷ ${short(r.commandsPerShardSecond.value)} (${r.commandsPerShardSecond.from})`,
    ),
    loadUnit: 'commands/s',
    perUnit: figure(
      headroom.redisShardUtilisation.value,
      `one shard at ${headroom.redisShardUtilisation.from}`,
    ),
    units: Math.max(1, Math.ceil(shardSeconds / headroom.redisShardUtilisation.value)),
    unitName: 'shards',
    wall: {
      what: `one event's queue on one shard (its hash tag; ${short(sale.events.value)} event(s))`,
      share: perEvent / headroom.redisShardUtilisation.value,
      limit: headroom.redisShardUtilisation,
    },
  };

  const consumers = { 'ticket-service': ticket.units, 'payment-service': payment.units };
  const kafka = costs.kafka.map((t): ComponentSizing => {
    const load = figure(
      peak.reservationsPerSecond.value * t.messagesPerBooking.value,
      `reservations/s × ${short(t.messagesPerBooking.value)} messages per booking (${t.messagesPerBooking.from})`,
    );
    const perUnit = times(
      t.messagesPerPartitionSecond,
      headroom.partitionUtilisation,
      `${t.messagesPerPartitionSecond.from} × ${headroom.partitionUtilisation.from}`,
    );
    // Each consumer replica needs a partition of its own, or it sits idle in its group.
    const forConsumers = t.consumer === null ? 1 : consumers[t.consumer];
    return {
      component: `kafka ${t.topic}`,
      load,
      loadUnit: 'messages/s',
      perUnit,
      units: Math.max(1, forConsumers, perUnit.value > 0 ? Math.ceil(load.value / perUnit.value) : 1),
      unitName: `partitions (≥ ${forConsumers} for ${t.consumer ?? 'no consumer'})`,
      wall: null,
    };
  });

  const pg = costs.postgres;
  const perReservation = (cost: Figure) =>
    figure(peak.reservationsPerSecond.value * cost.value, `reservations/s × ${cost.from}`);
  const statements = (perBooking: Figure | null) => (perBooking === null ? null : perReservation(perBooking));
  const databases = [
    database(
      'ticket-service',
      perReservation(pg.ticketPerBooking),
      statements(pg.ticketStatementsPerBooking),
      headroom,
    ),
    database(
      'payment-service',
      perReservation(pg.paymentPerBooking),
      statements(pg.paymentStatementsPerBooking),
      headroom,
    ),
    database(
      'account-service',
      figure(
        peak.signInsPerSecond.value * pg.accountPerSignIn.value,
        `sign-ins/s × ${pg.accountPerSignIn.from}`,
      ),
      null,
      headroom,
    ),
  ];

  const components = [edge, ticket, payment, account, redis, ...kafka, ...databases];
  const walled = components.filter((c) => c.wall !== null);
  const first = walled.reduce<ComponentSizing | undefined>(
    (worst, c) => (worst === undefined || c.wall!.share > worst.wall!.share ? c : worst),
    undefined,
  );
  return {
    sources: [...costs.sources, crowd.source],
    onSale: sale,
    headroom,
    crowd,
    peak,
    components,
    firstWall:
      first === undefined || first.wall!.share <= 0
        ? null
        : {
            component: first.component,
            what: first.wall!.what,
            share: first.wall!.share,
            growth: 1 / first.wall!.share,
          },
  };
}
