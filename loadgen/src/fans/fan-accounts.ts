import { randomBytes, scrypt } from 'node:crypto';
import type { Faker } from '@faker-js/faker';
import pg from 'pg';

export interface FanAccount {
  index: number;
  /** The account's id, as account-service's database gave it: what the bulk sign-in path asks for. */
  userId: string;
  email: string;
  /** Set when the fan signed in before the sale, or had a session minted for it. */
  accessToken?: string;
}

export const FAN_PASSWORD = 'lightstick-2026!';

/** log2 of scrypt's N in the fans' password hashes: 2^8, cheap enough to sign a crowd in on two cores. */
export const FAN_PASSWORD_LOG2N = 8;

/** The account service's self-describing scrypt format, at the cost the run uses (2^8: fans in bulk). */
async function hashOnce(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, 32, { N: 2 ** FAN_PASSWORD_LOG2N, r: 8, p: 1 }, (e, k) =>
      e ? reject(e) : resolve(k),
    ),
  );
  return `scrypt$ln=${FAN_PASSWORD_LOG2N},r=8,p=1$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/**
 * Fans registered long before the on-sale: written straight into the account database in bulk, each with a
 * faker name and a unique address, all sharing one password hash. On the day, each signs in over HTTP, or has
 * its session minted in bulk (mintSessions) when a login each would cost too much.
 */
export async function seedFanAccounts(
  accountDb: string,
  count: number,
  runTag: string,
  faker: Faker,
  seed: number,
): Promise<FanAccount[]> {
  faker.seed(seed);
  const people = Array.from({ length: count }, (_, index) => {
    const first = faker.person.firstName();
    const last = faker.person.lastName();
    const handle = faker.internet
      .username({ firstName: first, lastName: last })
      .toLowerCase()
      .replace(/[^a-z0-9._-]/g, '');
    return { index, email: `${handle}.${index}.${runTag}@fans.example`, name: `${first} ${last}` };
  });
  const hash = await hashOnce(FAN_PASSWORD);
  const db = new pg.Client({ connectionString: accountDb });
  await db.connect();
  const fans: FanAccount[] = [];
  try {
    for (let i = 0; i < people.length; i += 5000) {
      const chunk = people.slice(i, i + 5000);
      const { rows } = await db.query<{ id: string; email: string }>(
        `INSERT INTO users (email, name, password_hash) SELECT e, n, $3 FROM unnest($1::text[], $2::text[]) AS t(e, n)
         RETURNING id, email`,
        [chunk.map((f) => f.email), chunk.map((f) => f.name), hash],
      );
      // RETURNING promises no order: each id is matched to its fan by the (unique) email.
      const ids = new Map(rows.map((r) => [r.email, r.id]));
      // The name stays in the database: a million of them in the generator's heap would serve nothing.
      for (const { index, email } of chunk) fans.push({ index, email, userId: ids.get(email)! });
    }
  } finally {
    await db.end();
  }
  return fans;
}
