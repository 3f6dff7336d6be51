import type { Costs } from './costs.ts';
import { type Figure, figure, type ReportSource, SizingInputError } from './figure.ts';
import { type LoadFactor, loadFactorAt } from './load-factor.ts';
import type { RunReportFigures } from './report-shapes.ts';
import { serviceDemand, short } from './service-demand.ts';

/** The bound: the prediction of a run's replicas lands within a quarter of what the run measured. */
export const PREDICTION_TOLERANCE = 0.25;

export interface ServicePrediction {
  service: string;
  replicas: number;
  /** Seconds over which the run sampled the service's CPU (its cpuSeconds ÷ meanCores). */
  stretchSeconds: number;
  predictedCpuSeconds: Figure;
  measuredCpuSeconds: Figure;
  /** Busy cores over the stretch, "replica-equivalents": predicted and measured. */
  predictedCores: number;
  measuredCores: number;
  /** predicted ÷ measured − 1. */
  error: number;
  /** Only the saga's two replicated services are judged; the rest is shown. */
  judged: boolean;
  pass: boolean;
}

export interface RunPrediction {
  run: ReportSource;
  sources: ReportSource[];
  tolerance: number;
  services: ServicePrediction[];
  pass: boolean;
  /** Work the run did that no bench prices: if a prediction falls short, look here first. */
  unpriced: string[];
}

const JUDGED = ['ticket-service', 'payment-service'] as const;
const SHOWN = ['payment-provider'] as const;

/**
 * What the model says a run's services should have burned, against what they did. The run's own work (its joins,
 * its fans' reads near the front, its edge misses, its reservations) is priced with the benches' costs exactly as
 * the sizing prices an on-sale's, plus each process's idle cost over the stretch the run sampled; each service's
 * busy cores over that stretch are compared with `processes.services`.
 */
export function predictRun(
  costs: Costs,
  run: RunReportFigures,
  source: ReportSource,
  tolerance = PREDICTION_TOLERANCE,
): RunPrediction {
  const f = source.file;
  const w = run.waitingRoom;
  if (w.tokenChecks === undefined)
    throw new SizingInputError(
      `${f} has no waitingRoom.tokenChecks: the run predates ticket-service counting its token checks; run npm run scenario:scale-out again`,
    );
  // The benches priced one signature check in each join and each booking; the rest are a fan's token checked on
  // a further replica (the balancer spreads a fan's requests, and each process remembers only its own checks).
  const furtherChecks = Math.max(0, w.tokenChecks.signature - w.joins - run.outcomes.reservations);
  const demand = serviceDemand(costs, {
    joins: w.joins,
    placeReads: w.near.originRequests,
    statusReads: w.far.originRequests,
    reservations: run.outcomes.reservations,
    // Not judged: fans may have signed in before the stretch was sampled.
    signIns: 0,
    tokenChecks: furtherChecks,
  });
  // Each service's work at the load its replicas ran at, on the axis of bench:saga's paced bookings: how far below
  // saturation a process runs is how much of a core its work takes at saturated prices, whatever the unit. For the
  // saga's services that is their reservations a second. ticket-service's work is mostly joins and reads, each a
  // fraction of a booking's CPU (0.1–0.3 ms against 1.4), so it is counted in bookings' worth of saturated CPU:
  // counted one booking a request, 170 light requests a second read as a process busier than 100 bookings a second,
  // where the same CPU is a process at about 30. bench:queue's paced reads would measure ticket-service's own factor,
  // but gave ×1.05 to ×2.99 at the same rate.
  const bookings = run.outcomes.reservations;
  const ticketBookingsWorth = demand.ticketService.value / costs.ticketService.cpuSecondsPerBooking.value;
  const priced = {
    'ticket-service': {
      work: demand.ticketService,
      idle: costs.ticketService.idleCoresPerProcess,
      load: costs.ticketService.loadFactor,
      units: [ticketBookingsWorth, "bookings' worth of saturated CPU"],
    },
    'payment-service': {
      work: demand.paymentService,
      idle: costs.paymentService.idleCoresPerProcess,
      load: costs.paymentService.loadFactor,
      units: [bookings, 'reservations'],
    },
    'payment-provider': {
      work: demand.paymentProvider,
      idle: costs.paymentProvider.idleCoresPerProcess,
      load: costs.paymentProvider.loadFactor,
      units: [bookings, 'reservations'],
    },
  } satisfies Record<string, { work: Figure; idle: Figure; load: LoadFactor; units: [number, string] }>;
  const services: ServicePrediction[] = [];
  for (const service of [...JUDGED, ...SHOWN]) {
    const judged = (JUDGED as readonly string[]).includes(service);
    const measured = run.processes.services[service];
    if (measured === undefined) {
      if (!judged) continue;
      throw new SizingInputError(
        `${f} has no processes.services.${service}: the run sampled no CPU for it; run the scenario again`,
      );
    }
    if (!(measured.meanCores > 0))
      throw new SizingInputError(`${f}: processes.services.${service}.meanCores is ${measured.meanCores}`);
    const stretchSeconds = measured.cpuSeconds / measured.meanCores;
    const { work: saturated, idle, load, units } = priced[service];
    const work = belowSaturation(load, saturated, units, measured.replicas * stretchSeconds);
    const idleSeconds = idle.value * measured.replicas * stretchSeconds;
    const predicted = figure(
      work.value + idleSeconds,
      `${work.from} + ${measured.replicas} processes × ${short(idle.value)} cores idle (${idle.from}) × ${short(stretchSeconds)} s`,
    );
    const error = predicted.value / measured.cpuSeconds - 1;
    services.push({
      service,
      replicas: measured.replicas,
      stretchSeconds,
      predictedCpuSeconds: predicted,
      measuredCpuSeconds: figure(measured.cpuSeconds, `${f} processes.services.${service}.cpuSeconds`),
      predictedCores: predicted.value / stretchSeconds,
      measuredCores: measured.meanCores,
      error,
      judged,
      pass: !judged || Math.abs(error) <= tolerance,
    });
  }
  return {
    run: source,
    sources: [...costs.sources, source],
    tolerance,
    services,
    pass: services.every((s) => s.pass),
    unpriced: [
      'seat-map reads by admitted fans (cached for SEAT_MAP_CACHE_MS, answered 304 on a matching ETag)',
      'fans following their reservation until the saga decides (GET /api/reservations/:id)',
      'reservations refused with 409 (a seat already taken) and the retries after them',
      'misbehaving fans and the harness redelivering messages, where the scenario has them',
    ],
  };
}

/**
 * A service's work priced at the rate its replicas ran at, not at saturation: its units of work (requests, or
 * bookings) a second per replica over the stretch the run sampled, and the bench's factor for that rate. The rate is
 * an average over the stretch, so a run whose work came in a rush is priced as if it had been spread out.
 */
function belowSaturation(
  load: LoadFactor,
  work: Figure,
  [units, what]: [number, string],
  replicaSeconds: number,
): Figure {
  const perReplicaSecond = units / replicaSeconds;
  const factor = loadFactorAt(load.points, load.saturatedPerSecond.value, perReplicaSecond);
  return figure(
    work.value * factor,
    `(${work.from}) × ${short(factor)}, its cost at ${short(perReplicaSecond)} ${what}/s per replica against a saturated one's (${load.from})`,
  );
}
