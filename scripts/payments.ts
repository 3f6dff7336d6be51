// npm run payments -- refused [--json]
// What an operator needs to see in payment-service's own records, read from its database (DATABASE_URL, or the
// local default) and never changed here.
import { parseArgs } from 'node:util';
import pg from 'pg';

/** payment-service's database in local mode (its config's development default). */
const LOCAL_DATABASE_URL = 'postgres://reservex:reservex@127.0.0.1:5432/payment';

export interface RefusedRefund {
  reservationId: string;
  paymentId: string;
  eventId: string;
  amount: number;
  currency: string;
  /** The provider's reason: `not-captured`, `over-refund`, `validation`, … */
  reason: string;
  refusedAt: string;
}

/** Every refund the provider refused for good (REFUND_REFUSED), oldest first: money owed back, for a person. */
export async function refusedRefunds(db: pg.Pool): Promise<RefusedRefund[]> {
  const { rows } = await db.query(
    `SELECT reservation_id::text, id::text AS payment_id, event_id::text, amount, currency, refund_refusal,
            refund_refused_at
     FROM payments WHERE status = 'REFUND_REFUSED' ORDER BY refund_refused_at, reservation_id`,
  );
  return rows.map((r) => ({
    reservationId: r.reservation_id,
    paymentId: r.payment_id,
    eventId: r.event_id,
    amount: Number(r.amount),
    currency: r.currency,
    reason: r.refund_refusal,
    refusedAt: (r.refund_refused_at as Date).toISOString(),
  }));
}

/** The refusals as a table a person reads, with the total owed back per currency. */
export function refusedTable(refused: readonly RefusedRefund[]): string {
  if (refused.length === 0) return 'no refund refused by the provider';
  const header = ['reservation', 'amount', 'reason', 'refused at'];
  const rows = refused.map((r) => [r.reservationId, `${r.amount} ${r.currency}`, r.reason, r.refusedAt]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const owed = new Map<string, number>();
  for (const r of refused) owed.set(r.currency, (owed.get(r.currency) ?? 0) + r.amount);
  const total = [...owed].map(([currency, amount]) => `${amount} ${currency}`).join(', ');
  return [
    line(header),
    ...rows.map(line),
    `${refused.length} refund(s) refused by the provider, ${total} owed back`,
  ].join('\n');
}

const USAGE = `usage: npm run payments -- refused [--json]
  refused   the refunds the provider refused for good (payments in REFUND_REFUSED): reservation, amount, the
            provider's reason and when, oldest first; --json prints them as one JSON array
Reads payment-service's database: DATABASE_URL, or ${LOCAL_DATABASE_URL}.`;

/** Wrong arguments: said in one line, with the usage, exit 2. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(`payments: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const url = process.env.DATABASE_URL || LOCAL_DATABASE_URL;
  const db = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5000 });
  try {
    let refused: RefusedRefund[];
    try {
      refused = await refusedRefunds(db);
    } catch (error) {
      console.error(
        `payments: cannot read payment-service's database at ${withoutPassword(url)}: ${(error as Error).message}`,
      );
      return 1;
    }
    console.log(parsed.json ? JSON.stringify(refused, null, 2) : refusedTable(refused));
    return 0;
  } finally {
    await db.end();
  }
}

/** The database's address as an error may show it: never its password. */
function withoutPassword(url: string): string {
  try {
    const where = new URL(url);
    where.password = '';
    return where.toString();
  } catch {
    return '(DATABASE_URL, not a URL)';
  }
}

function parse(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return { help: true, json: false };
  const [command, ...rest] = positionals;
  if (command === undefined) throw new UsageError('which list? (refused)');
  if (command !== 'refused') throw new UsageError(`unknown command "${command}"`);
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  return { help: false, json: values.json === true };
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(`payments: ${error.message}`);
      process.exit(1);
    },
  );
}
