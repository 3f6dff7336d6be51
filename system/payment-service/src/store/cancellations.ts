import type { Queryable } from '@reservex/kit';

export async function recordCancellation(
  tx: Queryable,
  reservationId: string,
  reason: string,
): Promise<void> {
  await tx.query(
    'INSERT INTO cancelled_reservations (reservation_id, reason) VALUES ($1, $2) ON CONFLICT (reservation_id) DO NOTHING',
    [reservationId, reason],
  );
}

export async function isCancelled(tx: Queryable, reservationId: string): Promise<boolean> {
  const { rowCount } = await tx.query('SELECT 1 FROM cancelled_reservations WHERE reservation_id = $1', [
    reservationId,
  ]);
  return rowCount === 1;
}
