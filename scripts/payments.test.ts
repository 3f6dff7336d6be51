import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createLogger, KIT_MIGRATIONS_DIR, runMigrations } from '@reservex/kit';
import { createTestDatabase, type TestDatabase } from '@reservex/kit/testing';
import pg from 'pg';

const ROOT = resolve(import.meta.dirname, '..');
const run = promisify(execFile);

/** `npm run payments -- <args>`, as an operator runs it, against `databaseUrl`. */
async function payments(args: string[], databaseUrl: string) {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'scripts/payments.ts'), ...args], {
      env: { ...process.env, DATABASE_URL: databaseUrl },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run payments (an operator’s view of payment-service’s records)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  before(async () => {
    const logger = createLogger('payments-command', 'silent');
    db = await createTestDatabase('payments_cmd');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await runMigrations(pool, KIT_MIGRATIONS_DIR, logger, 'kit_schema_migrations');
    await runMigrations(pool, join(ROOT, 'system/payment-service/migrations'), logger);
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  const payment = (status: string, amount: number, refusal?: { reason: string; at: string }) => {
    const reservationId = randomUUID();
    return pool
      .query(
        `INSERT INTO payments (id, reservation_id, user_id, event_id, amount, currency, hold_expires_at, settle_by,
                               status, captured_at, refunded_at, refund_refusal, refund_refused_at)
         VALUES ($1, $2, 'fan', $3, $4, 'KRW', now(), now(), $5, now(), $6, $7, $8)`,
        [
          randomUUID(),
          reservationId,
          randomUUID(),
          amount,
          status,
          status === 'REFUNDED' ? new Date() : null,
          refusal?.reason ?? null,
          refusal?.at ?? null,
        ],
      )
      .then(() => reservationId);
  };

  it('refused lists every refund the provider refused, oldest first, with its reservation, amount, reason and when; --json as data', async () => {
    assert.equal((await payments(['refused'], db.url)).stdout.trim(), 'no refund refused by the provider');
    const later = await payment('REFUND_REFUSED', 30_000, {
      reason: 'not-captured',
      at: '2026-05-02T10:00:00.000Z',
    });
    const earlier = await payment('REFUND_REFUSED', 50_000, {
      reason: 'over-refund',
      at: '2026-05-01T09:00:00.000Z',
    });
    const given = await payment('REFUNDED', 70_000);

    const table = await payments(['refused'], db.url);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0]!, /^reservation\s+amount\s+reason\s+refused at$/);
    assert.match(
      lines[1]!,
      new RegExp(`^${earlier}\\s+50000 KRW\\s+over-refund\\s+2026-05-01T09:00:00.000Z$`),
    );
    assert.match(
      lines[2]!,
      new RegExp(`^${later}\\s+30000 KRW\\s+not-captured\\s+2026-05-02T10:00:00.000Z$`),
    );
    assert.equal(lines[3], '2 refund(s) refused by the provider, 80000 KRW owed back');
    assert.doesNotMatch(table.stdout, new RegExp(given));

    const json = await payments(['refused', '--json'], db.url);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(
      JSON.parse(json.stdout).map(
        (r: { reservationId: string; amount: number; reason: string; refusedAt: string }) => [
          r.reservationId,
          r.amount,
          r.reason,
          r.refusedAt,
        ],
      ),
      [
        [earlier, 50_000, 'over-refund', '2026-05-01T09:00:00.000Z'],
        [later, 30_000, 'not-captured', '2026-05-02T10:00:00.000Z'],
      ],
    );
  });

  it('--help prints the usage; a missing or unknown command, or an unknown option, is refused with the usage (exit 2)', async () => {
    const help = await payments(['--help'], db.url);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /usage: npm run payments -- refused \[--json\]/);
    for (const [args, said] of [
      [[], /which list\? \(refused\)/],
      [['refunds'], /unknown command "refunds"/],
      [['refused', '--csv'], /Unknown option '--csv'/],
      [['refused', 'now'], /unexpected argument "now"/],
    ] as const) {
      const refused = await payments([...args], db.url);
      assert.equal(refused.code, 2, args.join(' '));
      assert.match(refused.stderr, said);
      assert.match(refused.stderr, /usage: npm run payments/);
    }
  });

  it('a database it cannot read is said in one line, without the password (exit 1)', async () => {
    const away = await payments(['refused'], 'postgres://reservex:hunter2@127.0.0.1:1/payment');
    assert.equal(away.code, 1);
    assert.match(
      away.stderr,
      /^payments: cannot read payment-service's database at postgres:\/\/reservex@127\.0\.0\.1:1\/payment: .*ECONNREFUSED/,
    );
    assert.doesNotMatch(away.stderr, /hunter2/);
  });
});
