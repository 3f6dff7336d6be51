import { type Costs, coreSecondsPer } from './costs.ts';
import { type Figure, figure } from './figure.ts';

/**
 * The work an on-sale gives the services: either a second's worth (at a moment of the sale) or all of it (over a
 * stretch). The model prices both the same way, which is what lets a run of this machine check it.
 */
export interface Work {
  joins: number;
  /** A fan near the front asking the origin for their own place. */
  placeReads: number;
  /** The shared status read from the origin: the edge's misses. */
  statusReads: number;
  /** Reservations made, declined payments included. */
  reservations: number;
  signIns: number;
  /**
   * Access tokens checked again: beyond the check a join and a booking each include as the benches priced them, one
   * for each further replica a fan's requests reach (each process remembers only what it checked).
   */
  tokenChecks: number;
}

export interface ServiceDemand {
  ticketService: Figure;
  paymentService: Figure;
  paymentProvider: Figure;
  accountService: Figure;
}

/** Three significant figures, for the formulas the sizing prints. */
export const short = (n: number): string =>
  n === 0
    ? '0'
    : Math.abs(n) >= 1000
      ? Math.round(n).toLocaleString('en')
      : Number(n.toPrecision(3)).toString();

/**
 * Busy cores (for a second's work) or CPU seconds (for a stretch's) each service needs for `work`. A replica is one
 * Node process: at saturation, one busy core. So where bench:queue measured how many of a thing one process serves
 * a second, one of them costs a core for 1 ÷ that many seconds; bench:saga measured CPU seconds directly.
 */
export function serviceDemand(costs: Costs, work: Work): ServiceDemand {
  const t = costs.ticketService;
  const join = coreSecondsPer(t.joinsPerReplicaSecond).value;
  const place = coreSecondsPer(t.placeReadsPerReplicaSecond).value;
  const status = coreSecondsPer(t.statusReadsPerReplicaSecond).value;
  const booking = t.cpuSecondsPerBooking.value;
  const check = t.cpuSecondsPerTokenCheck.value;
  const ticket =
    work.joins * join +
    work.placeReads * place +
    work.statusReads * status +
    work.reservations * booking +
    work.tokenChecks * check;
  const checks =
    work.tokenChecks > 0
      ? ` + ${short(work.tokenChecks)} token checks × ${short(check * 1000)} ms (${t.cpuSecondsPerTokenCheck.from})`
      : '';
  const perBooking = (cost: Figure, service: string) =>
    figure(
      work.reservations * cost.value,
      `${service}: ${short(work.reservations)} reservations × ${short(cost.value * 1000)} ms (${cost.from})`,
    );
  return {
    ticketService: figure(
      ticket,
      `ticket-service: ${short(work.joins)} joins ÷ ${short(t.joinsPerReplicaSecond.value)}/s (${t.joinsPerReplicaSecond.from}) + ${short(work.placeReads)} place reads ÷ ${short(t.placeReadsPerReplicaSecond.value)}/s (${t.placeReadsPerReplicaSecond.from}) + ${short(work.statusReads)} status reads ÷ ${short(t.statusReadsPerReplicaSecond.value)}/s (${t.statusReadsPerReplicaSecond.from}) + ${short(work.reservations)} reservations × ${short(booking * 1000)} ms (${t.cpuSecondsPerBooking.from})${checks}`,
    ),
    paymentService: perBooking(costs.paymentService.cpuSecondsPerBooking, 'payment-service'),
    paymentProvider: perBooking(costs.paymentProvider.cpuSecondsPerBooking, 'payment-provider'),
    accountService: figure(
      work.signIns * costs.accountService.cpuSecondsPerSignIn.value,
      `account-service: ${short(work.signIns)} sign-ins × ${short(costs.accountService.cpuSecondsPerSignIn.value * 1000)} ms (${costs.accountService.cpuSecondsPerSignIn.from})`,
    ),
  };
}
