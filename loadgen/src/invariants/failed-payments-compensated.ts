import { type InvariantCheck, verdict } from './types.ts';

/** Failures of a charge that was never attempted: the reservation had already ended, so there is nothing to undo. */
const REFUSED_BEFORE_CHARGING = ['hold-expired', 'reservation-cancelled'];

/**
 * The compensation is explicit: a payment that failed while its reservation was live ends that reservation
 * CANCELLED (for `payment-failed`, or by the fan if their cancel came first), with its seats released. Letting the hold run out instead (EXPIRED) is not a
 * compensation, and fails this check.
 */
export const failedPaymentsCompensated: InvariantCheck = {
  name: 'failed-payment-compensated',
  title: 'Every failed payment compensated',
  async run({ ticket, payment, eventId, wire }) {
    const failed = await payment.query(
      "SELECT reservation_id::text, failure_reason, failed_at FROM payments WHERE event_id = $1 AND status = 'FAILED'",
      [eventId],
    );
    const reservations = await ticket.query(
      `SELECT r.id::text, r.status, r.reason, r.ended_at, r.settle_by,
              (SELECT count(*)::int FROM seats s WHERE s.reservation_id = r.id) AS seats_still_held
       FROM reservations r WHERE r.id = ANY($1::uuid[])`,
      [failed.rows.map((p) => p.reservation_id)],
    );
    const byId = new Map(reservations.rows.map((r) => [r.id, r]));
    const violations: unknown[] = [];
    let compensated = 0;
    for (const p of failed.rows) {
      const r = byId.get(p.reservation_id);
      if (r === undefined) continue;
      const problem = (text: string) =>
        violations.push({
          reservationId: r.id,
          status: r.status,
          reason: r.reason,
          failure: p.failure_reason,
          problem: text,
        });
      if (r.seats_still_held > 0 && r.status !== 'PENDING' && r.status !== 'CONFIRMED')
        problem('ended, but still holds seats');
      if (REFUSED_BEFORE_CHARGING.includes(p.failure_reason)) continue;
      // Ended before the payment failed (by the fan, or by the settle-by sweep): nothing left to compensate. So did
      // a hold whose payment failed only after its settle-by: the sweep may then expire it before it reads the
      // failure, since it keeps a hold PENDING past settle-by only while results could still confirm it.
      const endedFirst = r.ended_at !== null && r.ended_at <= p.failed_at;
      if (endedFirst || p.failed_at >= r.settle_by) continue;
      // CANCELLED for the failure, or by the fan whose cancel overtook the failure's message: either way explicit.
      if (r.status === 'CANCELLED') compensated++;
      else
        problem(
          `payment failed (${p.failure_reason}) but the reservation ended ${r.status}${r.reason ? ` (${r.reason})` : ''}`,
        );
    }
    // On the wire too: every payment.failed is answered by a reservation.cancelled for the same reservation.
    if (wire !== undefined) {
      const cancelled = new Set(
        (wire.byTopic.get('saga.reservation.cancelled') ?? []).map((e) => e.reservationId),
      );
      const onWire = wire.byTopic.get('saga.payment.failed') ?? [];
      const cancelledForFailure = new Set(
        (
          await ticket.query(
            "SELECT id::text FROM reservations WHERE id = ANY($1::uuid[]) AND status = 'CANCELLED' AND reason = 'payment-failed'",
            [onWire.map((e) => e.reservationId)],
          )
        ).rows.map((r) => r.id as string),
      );
      for (const e of onWire) {
        if (cancelledForFailure.has(e.reservationId) && !cancelled.has(e.reservationId))
          violations.push({
            reservationId: e.reservationId,
            problem: 'payment.failed on Kafka with no reservation.cancelled',
          });
      }
    }
    return verdict(
      violations,
      `${failed.rowCount} failed payment(s): ${compensated} compensated by a cancellation, the rest refused before any charge or after their booking ended; none kept seats`,
      (n) => `${n} failed payment(s) not compensated by an explicit cancellation`,
    );
  },
};
