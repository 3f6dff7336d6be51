import type pg from 'pg';
import { type InvariantCheck, verdict } from './types.ts';

/** A reservation id inside a ledger key (`charge:<id>`, `refund:<id>`, or any other key naming it). */
export const UUID_PATTERN = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

export interface MoneyAtProvider {
  captures: Array<{ key: string; amount: number; at: Date }>;
  refunds: Array<{ key: string; amount: number; at: Date }>;
}

/**
 * Money the provider moved for each of the event's reservations, from the provider's own ledger: every entry
 * whose key names the reservation, whatever the rest of the key says, so a second charge under another key
 * is counted too.
 */
export async function moneyAtProvider(
  provider: pg.Pool,
  reservationIds: readonly string[],
  since: Date,
): Promise<Map<string, MoneyAtProvider>> {
  const { rows } = await provider.query(
    `SELECT substring(key FROM '${UUID_PATTERN}') AS reservation_id, kind, key, amount, recorded_at
     FROM ledger_entries WHERE recorded_at >= $1 AND substring(key FROM '${UUID_PATTERN}') = ANY($2::text[])`,
    [since, reservationIds],
  );
  const money = new Map<string, MoneyAtProvider>();
  for (const row of rows) {
    const m = money.get(row.reservation_id) ?? { captures: [], refunds: [] };
    (row.kind === 'capture' ? m.captures : m.refunds).push({
      key: row.key,
      amount: Number(row.amount),
      at: row.recorded_at,
    });
    money.set(row.reservation_id, m);
  }
  return money;
}

const sum = (entries: Array<{ amount: number }>) => entries.reduce((s, e) => s + e.amount, 0);

/** The first moment a ledger entry of this event can have: its first reservation, less clock slack. */
export async function eventStart(ticket: pg.Pool, eventId: string): Promise<Date> {
  const { rows } = await ticket.query(
    "SELECT COALESCE(min(created_at), now()) - interval '1 minute' AS since FROM reservations WHERE event_id = $1",
    [eventId],
  );
  return rows[0].since;
}

export const providerLedgerReconciles: InvariantCheck = {
  name: 'provider-ledger-reconciles',
  title: 'Provider ledger reconciles',
  async run({ ticket, payment, provider, eventId }) {
    if (provider === undefined)
      return { verdict: 'SKIP', detail: "the provider's database was not given", examples: [] };
    const reservations = await ticket.query(
      'SELECT id::text, status, amount FROM reservations WHERE event_id = $1',
      [eventId],
    );
    const payments = await payment.query(
      'SELECT reservation_id::text, status FROM payments WHERE event_id = $1',
      [eventId],
    );
    const paymentOf = new Map(payments.rows.map((p) => [p.reservation_id, p.status as string]));
    const money = await moneyAtProvider(
      provider,
      reservations.rows.map((r) => r.id),
      await eventStart(ticket, eventId),
    );
    const violations: unknown[] = [];
    let captured = 0;
    let refunded = 0;
    for (const r of reservations.rows) {
      const m = money.get(r.id) ?? { captures: [], refunds: [] };
      const problem = (text: string) =>
        violations.push({
          reservationId: r.id,
          reservation: r.status,
          payment: paymentOf.get(r.id),
          ...m,
          problem: text,
        });
      const inCaptures = sum(m.captures);
      const inRefunds = sum(m.refunds);
      const kept = inCaptures - inRefunds;
      if (m.captures.length > 0) captured++;
      if (m.refunds.length > 0) refunded++;
      if (m.captures.length > 1) problem(`charged ${m.captures.length} times`);
      if (m.refunds.length > 0 && m.captures.length === 0) problem('refunded without a capture');
      else if (inRefunds > inCaptures) problem('refunded more than was captured');
      if (r.status === 'CONFIRMED') {
        if (m.captures.length === 0) problem('CONFIRMED without a capture at the provider');
        else if (kept !== Number(r.amount))
          problem(`CONFIRMED for ${r.amount}, but the provider kept ${kept}`);
      } else if (kept !== 0) problem(`charged ${kept} with neither a ticket nor a refund`);
      // payment-service's view agrees with the provider's.
      const status = paymentOf.get(r.id);
      const agrees =
        status === undefined
          ? m.captures.length === 0
          : status === 'CAPTURED'
            ? m.captures.length === 1 && m.refunds.length === 0
            : status === 'REFUNDED'
              ? m.captures.length === 1 && inRefunds === inCaptures
              : status === 'FAILED'
                ? m.captures.length === 0
                : status === 'REFUND_REFUSED'
                  ? m.captures.length === 1 // its capture is there; no-refund-refused reports the refusal
                  : true; // still moving: the stuck-saga check reports it
      if (!agrees) problem(`payment-service says ${status ?? 'no payment'}, the provider disagrees`);
    }
    return verdict(
      violations,
      `${captured} capture(s) and ${refunded} refund(s) at the provider: each capture a confirmed booking of its amount or refunded in full, no refund without a capture, no second charge, and payment-service agrees`,
      (n) => `${n} reservation(s) whose money at the provider does not add up`,
    );
  },
};
