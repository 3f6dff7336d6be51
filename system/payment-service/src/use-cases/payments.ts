import type { Pool, Principal } from '@reservex/kit';
import { type Payment, paymentsForReservation } from '../store/payments.ts';

export interface PaymentView {
  id: string;
  reservationId: string;
  amount: number;
  currency: string;
  status: Payment['status'];
  failureReason?: string;
  createdAt: Date;
  capturedAt?: Date;
  refundedAt?: Date;
  /** REFUND_REFUSED: why the provider would not give the money back. */
  refundRefusal?: string;
}

/** A reservation's payments, as its owner (or an admin) may see them. */
export async function paymentsOf(
  pool: Pool,
  principal: Principal,
  reservationId: string,
): Promise<PaymentView[]> {
  const payments = await paymentsForReservation(pool, reservationId);
  const visible = principal.roles.includes('admin')
    ? payments
    : payments.filter((p) => p.userId === principal.userId);
  return visible.map((p) => ({
    id: p.id,
    reservationId: p.reservationId,
    amount: p.amount,
    currency: p.currency,
    status: p.status,
    failureReason: p.failureReason ?? undefined,
    createdAt: p.createdAt,
    capturedAt: p.capturedAt ?? undefined,
    refundedAt: p.refundedAt ?? undefined,
    refundRefusal: p.refundRefusal ?? undefined,
  }));
}
