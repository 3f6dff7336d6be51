import { type Pool, withTransaction } from '@reservex/kit';

export async function refundExists(pool: Pool, key: string): Promise<boolean> {
  const { rowCount } = await pool.query('SELECT 1 FROM refunds WHERE idempotency_key = $1', [key]);
  return rowCount === 1;
}

export type RecordedRefund = 'refunded' | 'over-refund';

/**
 * Records a refund and its ledger entry in one transaction, idempotent by key. The charge row is locked, so two
 * refunds under different keys can never together give back more than was captured.
 */
export async function recordRefund(
  pool: Pool,
  key: string,
  chargeKey: string,
  amount: number,
): Promise<RecordedRefund> {
  return withTransaction(pool, async (tx) => {
    await tx.query('SELECT 1 FROM charges WHERE idempotency_key = $1 FOR UPDATE', [chargeKey]);
    const { rowCount: known } = await tx.query('SELECT 1 FROM refunds WHERE idempotency_key = $1', [key]);
    if (known === 1) return 'refunded';
    const { rows } = await tx.query(
      `SELECT COALESCE(sum(amount) FILTER (WHERE kind = 'capture'), 0)
            - COALESCE(sum(amount) FILTER (WHERE kind = 'refund'), 0) AS left
       FROM ledger_entries WHERE charge_key = $1`,
      [chargeKey],
    );
    if (amount > Number(rows[0]?.left ?? 0)) return 'over-refund';
    await tx.query('INSERT INTO refunds (idempotency_key, charge_key, amount) VALUES ($1, $2, $3)', [
      key,
      chargeKey,
      amount,
    ]);
    await tx.query(
      "INSERT INTO ledger_entries (kind, key, charge_key, amount) VALUES ('refund', $1, $2, $3)",
      [key, chargeKey, amount],
    );
    return 'refunded';
  });
}
