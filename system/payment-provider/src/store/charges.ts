import type { Queryable } from '@reservex/kit';

export type ChargeStatus = 'pending' | 'captured' | 'declined' | 'voided';

export interface Charge {
  key: string;
  amount: number;
  currency: string;
  status: ChargeStatus;
  declineReason: string | null;
  /** When the charge was captured, declined or voided; for a capture, the time of its ledger entry. */
  decidedAt: Date | null;
}

const toCharge = (r: {
  idempotency_key: string;
  amount: string | number;
  currency: string;
  status: ChargeStatus;
  decline_reason: string | null;
  decided_at: Date | null;
}): Charge => ({
  key: r.idempotency_key,
  amount: Number(r.amount),
  currency: r.currency,
  status: r.status,
  declineReason: r.decline_reason,
  decidedAt: r.decided_at,
});

export async function findCharge(db: Queryable, key: string): Promise<Charge | undefined> {
  const { rows } = await db.query('SELECT * FROM charges WHERE idempotency_key = $1', [key]);
  return rows[0] === undefined ? undefined : toCharge(rows[0]);
}

/** Records that a charge is under way; undefined when the key is already known (then read what it holds). */
export async function startCharge(
  db: Queryable,
  key: string,
  amount: number,
  currency: string,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO charges (idempotency_key, amount, currency, status) VALUES ($1, $2, $3, 'pending')
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [key, amount, currency],
  );
  return rowCount === 1;
}

/**
 * Captures a pending charge and writes its ledger entry, atomically. Returns the capture's time (the charge's
 * decided_at, which is the ledger entry's recorded_at); undefined if the charge was voided meanwhile.
 */
export async function capture(db: Queryable, key: string): Promise<Date | undefined> {
  // One statement, so one atomic commit without a transaction's round trips: the capture and its ledger entry.
  const { rows } = await db.query<{ recorded_at: Date }>(
    `WITH captured AS (
       UPDATE charges SET status = 'captured', decided_at = now() WHERE idempotency_key = $1 AND status = 'pending'
       RETURNING amount, decided_at)
     INSERT INTO ledger_entries (kind, key, charge_key, amount, recorded_at)
     SELECT 'capture', $1, $1, amount, decided_at FROM captured
     RETURNING recorded_at`,
    [key],
  );
  return rows[0]?.recorded_at;
}

export async function decline(db: Queryable, key: string, reason: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE charges SET status = 'declined', decline_reason = $2, decided_at = now()
     WHERE idempotency_key = $1 AND status = 'pending'`,
    [key, reason],
  );
  return rowCount === 1;
}

/**
 * The merchant gives up on a key: a key never seen, or one still pending, is voided, so nothing will ever be
 * captured under it. Returns what the key holds afterwards.
 */
export async function voidCharge(db: Queryable, key: string): Promise<Charge> {
  await db.query(
    `INSERT INTO charges (idempotency_key, amount, currency, status, decided_at) VALUES ($1, 0, 'XXX', 'voided', now())
     ON CONFLICT (idempotency_key) DO UPDATE SET status = 'voided', decided_at = now() WHERE charges.status = 'pending'`,
    [key],
  );
  return (await findCharge(db, key))!;
}

/**
 * At start-up: charges left pending by a previous run of this process. Their requests died with it before any
 * capture, so they are declined, as a real acquirer's recovery would; a lookup then gets a definite answer.
 */
export async function declineAbandoned(db: Queryable): Promise<number> {
  const { rowCount } = await db.query(
    "UPDATE charges SET status = 'declined', decline_reason = 'processing-error', decided_at = now() WHERE status = 'pending'",
  );
  return rowCount ?? 0;
}
