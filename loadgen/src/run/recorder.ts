import type { Misbehaviour, Refusal } from '../fans/misbehaviour-kinds.ts';
/** Everything the run measures, client side. Percentiles come from kept samples; a run holds at most ~10^5. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface SecondSample {
  t: number;
  waiting: number;
  admitted: number;
  admittedPerSecond: number;
  reservedSeats: number;
  soldSeats: number;
  confirmed: number;
  paymentFailed: number;
  expired: number;
  cancelled: number;
  conflicts: number;
  confirmLatencyP50: number;
  confirmLatencyP95: number;
  confirmLatencyP99: number;
}

/** A booking as the system acknowledged it to its fan: the record RPO is judged against (acknowledged-kept). */
export interface AcknowledgedBooking {
  id: string;
  seatIds: string[];
  /** Epoch milliseconds of the 202 that acknowledged it. */
  at: number;
  /** When the fan was shown it CONFIRMED, if they were. */
  confirmedAt?: number;
  /** When its fan first asked to cancel it, if they did: a CANCELLED booking is then theirs to have ended. */
  cancelAskedAt?: number;
}

export class Recorder {
  readonly startedAt = Date.now();
  readonly capacity: number;
  usersArrived = 0;
  usersDone = 0;
  signedIn = 0;
  waiting = 0;
  admitted = 0;
  abandonedWaiting = 0;
  abandonedAdmitted = 0;
  /** Fans still queued when the run ended. */
  timedOutWaiting = 0;
  /** Fans the queue dropped as gone although they were still polling: they lost their turn. */
  droppedWhilePolling = 0;
  /** Admitted fans whose booking was refused for a reason other than a seat race (a lapsed admission, errors). */
  turnedAway = 0;
  soldOutSeen = 0;
  reservations = 0;
  reservedSeats = 0;
  conflicts = 0;
  confirmed = 0;
  soldSeats = 0;
  paymentFailed = 0;
  expired = 0;
  cancelled = 0;
  /** Fans who cancelled a booking they had paid for (each one a refund). */
  cancelledAfterPaying = 0;
  /** Misbehaving fans' attempts, by kind: tried, refused as they must be, and answered wrongly. */
  readonly misbehaviours = new Map<Misbehaviour, { tried: number; refused: number; wrong: number }>();
  /** What each wrong answer was, for the report (bounded). */
  readonly wrongAnswers: string[] = [];
  /** Refused attempts, for the checker to confirm they left nothing behind. */
  readonly refusals: Refusal[] = [];
  /** Requests a fan's app sent again after a transient answer (no answer, 429, 502–504). */
  fanRetries = 0;
  /** GETs sent again on a fresh connection after a kept-alive one closed under them (http-client.ts). */
  closedKeepAliveRetries = 0;
  /** Fans whose journey ended because the API kept failing past their patience. */
  fansGaveUp = 0;
  /** Transient answers fans saw, by status (0 is no answer at all). */
  readonly transientErrors = new Map<string, number>();
  /** 503s that came with Retry-After: the service shedding or waiting for a dependency, on purpose. */
  shed503 = 0;
  firstSaleAt: number | undefined;
  soldOutAt: number | undefined;
  readonly http = new Map<string, number>();
  /** Every booking the system acknowledged to a fan, by id, with what the fan was later shown of it. */
  readonly acknowledged = new Map<string, AcknowledgedBooking>();
  readonly confirmLatencies: number[] = [];
  readonly queueWaits: number[] = [];
  /**
   * The waiting fans' time, far from the front (reading the shared status from the edge) and near it (asking the
   * origin for their own place), in fan-seconds, and the origin requests they made there.
   */
  readonly waitingFar = { seconds: 0, originRequests: 0 };
  readonly waitingNear = { seconds: 0, originRequests: 0 };
  /** The shared status as the edge answered it: requests, and those served without the origin (X-Cache-Status). */
  readonly edge = { requests: 0, hits: 0 };
  readonly series: SecondSample[] = [];
  readonly errors: string[] = [];
  #windowLatencies: number[] = [];
  #lastAdmitted = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** A read of the shared status, with the edge's X-Cache-Status: a hit, or served stale while it refreshed. */
  edgeLooked(cacheStatus: string): void {
    this.edge.requests++;
    if (cacheStatus === 'HIT' || cacheStatus === 'STALE' || cacheStatus === 'UPDATING') this.edge.hits++;
  }

  misbehaviour(kind: Misbehaviour) {
    let tally = this.misbehaviours.get(kind);
    if (tally === undefined) {
      tally = { tried: 0, refused: 0, wrong: 0 };
      this.misbehaviours.set(kind, tally);
    }
    return tally;
  }

  countHttp(status: number | 'network-error', retryAfter = false): void {
    const key = String(status);
    this.http.set(key, (this.http.get(key) ?? 0) + 1);
    if (status === 503 && retryAfter) this.shed503++;
  }

  sawTransientError(status: number): void {
    const key = status === 0 ? 'no answer' : String(status);
    this.transientErrors.set(key, (this.transientErrors.get(key) ?? 0) + 1);
  }

  bookingAcknowledged(id: string, seatIds: string[]): void {
    this.acknowledged.set(id, { id, seatIds, at: Date.now() });
  }

  confirmedAfter(ms: number, seats: number, id?: string): void {
    const booking = id === undefined ? undefined : this.acknowledged.get(id);
    if (booking !== undefined) booking.confirmedAt = Date.now();
    this.confirmed++;
    this.soldSeats += seats;
    this.confirmLatencies.push(ms);
    this.#windowLatencies.push(ms);
    this.firstSaleAt ??= Date.now();
    if (this.soldSeats >= this.capacity) this.soldOutAt ??= Date.now();
  }

  /** A fan cancelled a booking it had paid for: its seats are back on sale, so no longer counted as sold. */
  cancellationAsked(id: string): void {
    const booking = this.acknowledged.get(id);
    if (booking !== undefined) booking.cancelAskedAt ??= Date.now();
  }

  paidBookingCancelled(seats: number): void {
    this.cancelledAfterPaying++;
    this.soldSeats -= seats;
  }

  error(message: string): void {
    if (this.errors.length < 50) this.errors.push(message);
  }

  /** Called once a second: closes the window and appends one sample. */
  sample(): SecondSample {
    const window = this.#windowLatencies.sort((a, b) => a - b);
    const s: SecondSample = {
      t: Math.round((Date.now() - this.startedAt) / 1000),
      waiting: this.waiting,
      admitted: this.admitted,
      admittedPerSecond: this.admitted - this.#lastAdmitted,
      reservedSeats: this.reservedSeats,
      soldSeats: this.soldSeats,
      confirmed: this.confirmed,
      paymentFailed: this.paymentFailed,
      expired: this.expired,
      cancelled: this.cancelled,
      conflicts: this.conflicts,
      confirmLatencyP50: percentile(window, 50),
      confirmLatencyP95: percentile(window, 95),
      confirmLatencyP99: percentile(window, 99),
    };
    this.#lastAdmitted = this.admitted;
    this.#windowLatencies = [];
    this.series.push(s);
    return s;
  }
}
