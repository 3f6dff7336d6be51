import type { Queryable } from '@reservex/kit';
import { isUniqueViolation, type Role } from '@reservex/kit';
import { EmailTakenError } from '../domain/account-errors.ts';

export interface User {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  roles: Role[];
}

interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  roles: Role[];
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  email: r.email,
  name: r.name,
  passwordHash: r.password_hash,
  roles: r.roles,
});

/** The unique constraint decides a race between two sign-ups with one email, not a SELECT before the INSERT. */
export async function insertUser(
  db: Queryable,
  user: { email: string; name: string; passwordHash: string; roles: Role[] },
): Promise<User> {
  try {
    const { rows } = await db.query<UserRow>(
      'INSERT INTO users (email, name, password_hash, roles) VALUES ($1, $2, $3, $4) RETURNING *',
      [user.email, user.name, user.passwordHash, user.roles],
    );
    return toUser(rows[0]!);
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_key')) throw new EmailTakenError();
    throw error;
  }
}

export async function findUserByEmail(db: Queryable, email: string): Promise<User | undefined> {
  const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE email = $1', [email]);
  return rows[0] === undefined ? undefined : toUser(rows[0]);
}

export async function findUserById(db: Queryable, id: string): Promise<User | undefined> {
  const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
  return rows[0] === undefined ? undefined : toUser(rows[0]);
}

/** Creates the bootstrap admin once; an existing account with that email is promoted, its password left alone. */
export async function ensureAdmin(
  db: Queryable,
  admin: { email: string; passwordHash: string },
): Promise<void> {
  await db.query(
    `INSERT INTO users (email, name, password_hash, roles) VALUES ($1, 'Administrator', $2, ARRAY['user', 'admin'])
     ON CONFLICT (email) DO UPDATE SET roles = ARRAY['user', 'admin']
     WHERE NOT users.roles @> ARRAY['admin']`,
    [admin.email, admin.passwordHash],
  );
}
