import { type Figure, figure, type ReportSource, ratio, SizingInputError } from './figure.ts';
import type { RunReportFigures } from './report-shapes.ts';

/**
 * How a crowd behaves, per fan, per booking and per second waited, as one run measured it: what turns an on-sale's
 * fans and seats into work. The sizing takes it from the million run.
 */
export interface CrowdProfile {
  source: ReportSource;
  seatsPerBooking: Figure;
  /** Reservations made per confirmed booking: declined payments, expiries and cancellations cost work too. */
  reservationsPerBooking: Figure;
  /** Confirmed bookings per fan admitted: some admitted fans leave or find their seats gone. */
  bookingsPerAdmission: Figure;
  joinsPerFan: Figure;
  /** The busiest interval's arrivals against the mean over the arrival window: the shape of the crowd's rush. */
  arrivalPeakFactor: Figure;
  /** Seconds an admitted fan spent near the front, asking the origin for their own place, before their turn. */
  nearSecondsPerAdmission: Figure;
  /** Origin requests for a fan's own place, a second, per fan near the front. */
  nearOriginPerFanSecond: Figure;
  /** Origin requests (edge misses), a second, per fan far back. */
  farOriginPerFanSecond: Figure;
  /** Reads of the shared status at the edge, a second, per fan far back. */
  edgePerFarFanSecond: Figure;
}

/**
 * The crowd's behaviour in one run. `arrivalWindow` is the seconds over which its fans were meant to arrive (the
 * scenario's arrival, before and after the opening): the peak factor is measured against it.
 */
export function crowdProfileOf(
  run: RunReportFigures,
  source: ReportSource,
  arrivalWindow: Figure,
): CrowdProfile {
  const f = source.file;
  const w = run.waitingRoom;
  const confirmed = figure(run.outcomes.confirmed, `${f} outcomes.confirmed`);
  const admissions = figure(run.queueWaitMs.count, `${f} queueWaitMs.count (fans admitted)`);
  const fans = figure(w.fansArrived, `${f} waitingRoom.fansArrived`);
  const farFanSeconds = figure(w.far.fanMinutes * 60, `${f} waitingRoom.far.fanMinutes × 60`);
  const nearFanSeconds = figure(w.near.fanMinutes * 60, `${f} waitingRoom.near.fanMinutes × 60`);
  const interval = run.processes.intervalSeconds;
  const busiest = Math.max(0, ...run.processes.timeline.map((t) => t.arrived));
  if (busiest === 0)
    throw new SizingInputError(
      `${f} has no arrivals in processes.timeline: the arrival peak cannot be read from it; run the scenario again`,
    );
  const peakPerSecond = figure(
    busiest / interval,
    `${f} processes.timeline: most arrived in one ${interval} s interval ÷ ${interval}`,
  );
  const meanPerSecond = ratio(
    figure(run.outcomes.fansArrived, `${f} outcomes.fansArrived`),
    arrivalWindow,
    `${f} outcomes.fansArrived ÷ arrival window`,
  );
  return {
    source,
    seatsPerBooking: ratio(
      figure(run.soldSeats, `${f} soldSeats`),
      confirmed,
      `${f} soldSeats ÷ outcomes.confirmed`,
    ),
    reservationsPerBooking: ratio(
      figure(run.outcomes.reservations, `${f} outcomes.reservations`),
      confirmed,
      `${f} outcomes.reservations ÷ outcomes.confirmed`,
    ),
    bookingsPerAdmission: ratio(confirmed, admissions, `${f} outcomes.confirmed ÷ queueWaitMs.count`),
    joinsPerFan: ratio(
      figure(w.joins, `${f} waitingRoom.joins`),
      fans,
      `${f} waitingRoom.joins ÷ fansArrived`,
    ),
    arrivalPeakFactor: ratio(
      peakPerSecond,
      meanPerSecond,
      `${peakPerSecond.from}, against ${meanPerSecond.from} (${arrivalWindow.value} s, ${arrivalWindow.from})`,
    ),
    nearSecondsPerAdmission: ratio(
      nearFanSeconds,
      admissions,
      `${f} waitingRoom.near.fanMinutes × 60 ÷ queueWaitMs.count`,
    ),
    nearOriginPerFanSecond: ratio(
      figure(w.near.originRequests, `${f} waitingRoom.near.originRequests`),
      nearFanSeconds,
      `${f} waitingRoom.near: originRequests ÷ fan-seconds`,
    ),
    farOriginPerFanSecond: ratio(
      figure(w.far.originRequests, `${f} waitingRoom.far.originRequests`),
      farFanSeconds,
      `${f} waitingRoom.far: originRequests ÷ fan-seconds`,
    ),
    edgePerFarFanSecond: ratio(
      figure(w.edge.requests, `${f} waitingRoom.edge.requests`),
      farFanSeconds,
      `${f} waitingRoom: edge.requests ÷ far fan-seconds`,
    ),
  };
}
