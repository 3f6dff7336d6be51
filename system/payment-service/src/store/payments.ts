import { injectTraceContext, type Queryable, type TraceCarrier } from '@reservex/kit';
import { nextPaymentStatus, type PaymentStatus, type PaymentTransition } from '../domain/payment-status.ts';

export interface Payment {
  id: string;
  reservationId: string;
  userId: string;
  eventId: string;
  amount: number;
  currency: string;
  /** The fan's deadline: no charge starts after it. */
  holdExpiresAt: Date;
  /** When ticket-service gives up on the booking: an unknown outcome must be settled (or voided) before then. */
  settleBy: Date;
  status: PaymentStatus;
  failureReason: string | null;
  /** Claims so far, by the processor or the reconciler: the claim token a settlement must match. */
  attempts: number;
  /** Lookups at the provider since the payment went in doubt, for the backoff. */
  checks: number;
  inDoubtSince: Date | null;
  refundAttempts: number;
  createdAt: Date;
  capturedAt: Date | null;
  failedAt: Date | null;
  refundedAt: Date | null;
  /** Why the provider refused the refund for good (REFUND_REFUSED): `not-captured`, `over-refund`, `validation`. */
  refundRefusal: string | null;
  refundRefusedAt: Date | null;
  traceContext: TraceCarrier;
}

interface Row {
  id: string;
  reservation_id: string;
  user_id: string;
  event_id: string;
  amount: number;
  currency: string;
  hold_expires_at: Date;
  settle_by: Date;
  status: PaymentStatus;
  failure_reason: string | null;
  attempts: number;
  checks: number;
  in_doubt_since: Date | null;
  refund_attempts: number;
  created_at: Date;
  captured_at: Date | null;
  failed_at: Date | null;
  refunded_at: Date | null;
  refund_refusal: string | null;
  refund_refused_at: Date | null;
  trace_context: TraceCarrier;
}

const toPayment = (r: Row): Payment => ({
  id: r.id,
  reservationId: r.reservation_id,
  userId: r.user_id,
  eventId: r.event_id,
  amount: Number(r.amount),
  currency: r.currency,
  holdExpiresAt: r.hold_expires_at,
  settleBy: r.settle_by,
  status: r.status,
  failureReason: r.failure_reason,
  attempts: r.attempts,
  checks: r.checks,
  inDoubtSince: r.in_doubt_since,
  refundAttempts: r.refund_attempts,
  createdAt: r.created_at,
  capturedAt: r.captured_at,
  failedAt: r.failed_at,
  refundedAt: r.refunded_at,
  refundRefusal: r.refund_refusal,
  refundRefusedAt: r.refund_refused_at,
  traceContext: r.trace_context,
});

/** A payment as the saga opens it, before anything has happened to it. */
export type NewPayment = Pick<
  Payment,
  'id' | 'reservationId' | 'userId' | 'eventId' | 'amount' | 'currency' | 'holdExpiresAt' | 'settleBy'
>;

/** Opens the payment for a reservation; false when one exists already (a redelivered or repeated request). */
export async function openPayment(tx: Queryable, p: NewPayment): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO payments (id, reservation_id, user_id, event_id, amount, currency, hold_expires_at, settle_by, status, trace_context)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $9, 'PROCESSING', $8) ON CONFLICT (reservation_id) DO NOTHING`,
    [
      p.id,
      p.reservationId,
      p.userId,
      p.eventId,
      p.amount,
      p.currency,
      p.holdExpiresAt,
      JSON.stringify(injectTraceContext()),
      p.settleBy,
    ],
  );
  return rowCount === 1;
}

/** Records a payment that was refused before any charge: the hold had ended, or the reservation was cancelled. */
export async function refusePayment(tx: Queryable, p: NewPayment, reason: string): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO payments (id, reservation_id, user_id, event_id, amount, currency, hold_expires_at, settle_by, status, failure_reason, failed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'FAILED', $9, now()) ON CONFLICT (reservation_id) DO NOTHING`,
    [p.id, p.reservationId, p.userId, p.eventId, p.amount, p.currency, p.holdExpiresAt, p.settleBy, reason],
  );
  return rowCount === 1;
}

export async function lockPaymentForReservation(
  tx: Queryable,
  reservationId: string,
): Promise<Payment | undefined> {
  const { rows } = await tx.query<Row>('SELECT * FROM payments WHERE reservation_id = $1 FOR UPDATE', [
    reservationId,
  ]);
  return rows[0] === undefined ? undefined : toPayment(rows[0]);
}

export async function lockPayment(tx: Queryable, id: string): Promise<Payment | undefined> {
  const { rows } = await tx.query<Row>('SELECT * FROM payments WHERE id = $1 FOR UPDATE', [id]);
  return rows[0] === undefined ? undefined : toPayment(rows[0]);
}

/**
 * What a move stamps besides the status, given the expression for when the capture happened: the provider's own
 * time of it, from its answer, for the moves that record a capture; a captured answer without one (from a provider
 * older than that field) falls back to now, the time it is recorded here.
 */
const STAMP: Record<PaymentStatus, (captureTime: string) => string> = {
  PROCESSING: () => '',
  IN_DOUBT: () => 'in_doubt_since = COALESCE(in_doubt_since, now()), next_check_at = now(), checks = 0',
  CAPTURED: (at) => `captured_at = ${at}`,
  FAILED: () => 'failed_at = now()',
  // A capture to be refunded at once (late, or after a cancellation) is stamped captured too.
  REFUNDING: (at) => `refund_requested_at = now(), captured_at = COALESCE(captured_at, ${at})`,
  REFUNDED: () => 'refunded_at = now()',
  REFUND_REFUSED: () => 'refund_refused_at = now()',
};
const RECORDS_CAPTURE: ReadonlySet<PaymentStatus> = new Set(['CAPTURED', 'REFUNDING']);

/** Where the reason of a status that keeps one goes: a charge's decline, or the provider's refusal of a refund. */
const REASON_COLUMN: Partial<Record<PaymentStatus, string>> = {
  FAILED: 'failure_reason',
  REFUND_REFUSED: 'refund_refusal',
};

/** What a move records besides the status. */
export interface TransitionDetails {
  /** Kept for a status that has one (FAILED: the decline; REFUND_REFUSED: the provider's refusal). */
  reason?: string;
  /** The provider's time of the capture, for a move that records one; null when its answer carried none. */
  capturedAt?: Date | null;
}

/**
 * Moves a locked payment through the transition table; an illegal move throws before anything is written.
 * Returns the payment as the move left it.
 */
export async function transitionPayment(
  tx: Queryable,
  payment: Payment,
  transition: PaymentTransition,
  details: TransitionDetails = {},
): Promise<Payment> {
  const to = nextPaymentStatus(payment.status, transition);
  // Only what the move records is a parameter: PostgreSQL refuses one the statement never uses.
  const params: unknown[] = [payment.id, to];
  const column = REASON_COLUMN[to];
  let extra = '';
  if (column !== undefined) {
    params.push(details.reason ?? null);
    extra += `, ${column} = COALESCE($${params.length}, ${column})`;
  }
  let captureTime = 'now()';
  if (RECORDS_CAPTURE.has(to)) {
    params.push(details.capturedAt ?? null);
    captureTime = `COALESCE($${params.length}::timestamptz, now())`;
  }
  const stamp = STAMP[to](captureTime);
  if (stamp !== '') extra += `, ${stamp}`;
  const { rows } = await tx.query<Row>(
    `UPDATE payments SET status = $2, lease_until = NULL,
       doubt_resolved_at = CASE
         WHEN in_doubt_since IS NOT NULL AND doubt_resolved_at IS NULL AND $2 NOT IN ('PROCESSING', 'IN_DOUBT')
         THEN now() ELSE doubt_resolved_at END
       ${extra}
     WHERE id = $1
     RETURNING *`,
    params,
  );
  return toPayment(rows[0]!);
}

/** A claimed payment, and whether its reservation was cancelled by the time of the claim. */
export type ClaimedPayment = Payment & { cancelled: boolean };

/**
 * The claim reads the cancellation in its own statement, so from that statement's snapshot: one that commits while
 * the claim runs can be missed. That costs nothing the design does not already accept, because the charge is made
 * after the claim, outside any transaction, and a cancellation may land at any moment of it. A claim that missed
 * one only lets a charge start, or the reconciler wait or charge again; what it captures is decided by the
 * settlement, which reads the cancellation after it holds the payment's lock (use-cases/settle-charge.ts) and
 * refunds a capture on a cancelled reservation. The claims skip locked rows, so they never wait on a lock here.
 */
const CLAIMED = `*, EXISTS (SELECT 1 FROM cancelled_reservations c WHERE c.reservation_id = payments.reservation_id) AS cancelled`;

/**
 * Leases PROCESSING payments to this instance. SKIP LOCKED lets instances share the work; the lease lets a
 * payment whose worker died be picked up again once it runs out.
 */
export function claimProcessingPayments(db: Queryable, limit: number, leaseSeconds: number) {
  return claimPayments(db, "status = 'PROCESSING'", 'created_at', limit, leaseSeconds);
}

/** Leases IN_DOUBT payments whose next check is due, to ask the provider about them. */
export function claimPaymentsInDoubt(db: Queryable, limit: number, leaseSeconds: number) {
  return claimPayments(
    db,
    "status = 'IN_DOUBT' AND next_check_at <= now()",
    'next_check_at',
    limit,
    leaseSeconds,
  );
}

/**
 * Leases up to `limit` payments that `due` selects and no live lease holds, first by `order`. Each claim is an
 * attempt: its number is the claim token a settlement must match.
 */
async function claimPayments(
  db: Queryable,
  due: string,
  order: string,
  limit: number,
  leaseSeconds: number,
): Promise<ClaimedPayment[]> {
  const { rows } = await db.query<Row & { cancelled: boolean }>(
    `UPDATE payments SET lease_until = now() + make_interval(secs => $2), attempts = attempts + 1
     WHERE id IN (
       SELECT id FROM payments
       WHERE ${due} AND (lease_until IS NULL OR lease_until < now())
       ORDER BY ${order} LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING ${CLAIMED}`,
    [limit, leaseSeconds],
  );
  return rows.map((r) => ({ ...toPayment(r), cancelled: r.cancelled }));
}

/** Nothing known yet: the claim is let go, and the payment is asked about again after `delayMs`. */
export async function checkAgainLater(
  db: Queryable,
  paymentId: string,
  attempt: number,
  delayMs: number,
): Promise<void> {
  await db.query(
    `UPDATE payments SET next_check_at = now() + make_interval(secs => $3::float8 / 1000), checks = checks + 1,
       lease_until = NULL
     WHERE id = $1 AND attempts = $2 AND status = 'IN_DOUBT'`,
    [paymentId, attempt, delayMs],
  );
}

/** A refund whose answer was lost is tried again (same key) after `delayMs`, rather than when its lease runs out. */
export async function refundAgainLater(db: Queryable, paymentId: string, delayMs: number): Promise<void> {
  await db.query(
    `UPDATE payments SET lease_until = now() + make_interval(secs => $2::float8 / 1000)
     WHERE id = $1 AND status = 'REFUNDING'`,
    [paymentId, delayMs],
  );
}

/** How many payments are in doubt now, for the gauge. */
export async function countInDoubt(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    "SELECT count(*) AS n FROM payments WHERE status = 'IN_DOUBT'",
  );
  return Number(rows[0]?.n ?? 0);
}

/** How many refunds the provider refused for good, for the gauge: each is money kept that is owed back. */
export async function countRefusedRefunds(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    "SELECT count(*) AS n FROM payments WHERE status = 'REFUND_REFUSED'",
  );
  return Number(rows[0]?.n ?? 0);
}

/** The statuses a payment is claimed in with a lease and an attempt number: to charge it, or to check on it. */
export type LeasedStatus = Extract<PaymentStatus, 'PROCESSING' | 'IN_DOUBT'>;

/**
 * Keeps a claim alive while its calls to the provider are in flight, so no other attempt picks the payment up
 * meanwhile. Only the attempt that holds the claim (same attempt number) can extend it, and only while the payment
 * is still in the status it was claimed in; false when the claim is lost.
 */
export async function extendLease(
  db: Queryable,
  paymentId: string,
  attempt: number,
  leaseSeconds: number,
  status: LeasedStatus,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE payments SET lease_until = now() + make_interval(secs => $3)
     WHERE id = $1 AND attempts = $2 AND status = $4`,
    [paymentId, attempt, leaseSeconds, status],
  );
  return rowCount === 1;
}

export async function paymentsForReservation(db: Queryable, reservationId: string): Promise<Payment[]> {
  const { rows } = await db.query<Row>(
    'SELECT * FROM payments WHERE reservation_id = $1 ORDER BY created_at',
    [reservationId],
  );
  return rows.map(toPayment);
}

/** Leases REFUNDING payments to this instance, as charges are leased: the refund is retried until it is confirmed. */
export async function claimRefunds(db: Queryable, limit: number, leaseSeconds: number): Promise<Payment[]> {
  const { rows } = await db.query<Row>(
    `UPDATE payments SET lease_until = now() + make_interval(secs => $2), refund_attempts = refund_attempts + 1
     WHERE id IN (
       SELECT id FROM payments
       WHERE status = 'REFUNDING' AND (lease_until IS NULL OR lease_until < now())
       ORDER BY refund_requested_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING *`,
    [limit, leaseSeconds],
  );
  return rows.map(toPayment);
}
