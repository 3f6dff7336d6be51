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

/** The accounts among `ids` (one query, by primary key); ids that name no account are simply absent. */
export async function findUsersByIds(db: Queryable, ids: readonly string[]): Promise<User[]> {
  const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE id = ANY($1::uuid[])', [ids]);
  return rows.map(toUser);
}

export class AdminEmailTaken extends Error {
  constructor(email: string) {
    super(
      `ADMIN_EMAIL ${email} belongs to an account that is not an admin. Anyone can sign up with any email, so ` +
        'promoting it would hand admin rights to whoever registered it. Choose another ADMIN_EMAIL, or grant the ' +
        'role to that account by hand after checking who owns it.',
    );
    this.name = 'AdminEmailTaken';
  }
}

/**
 * Creates the bootstrap admin once. An account that already has the email is never promoted: sign-up has no
 * email verification, so it may belong to anyone.
 */
export async function ensureAdmin(
  db: Queryable,
  admin: { email: string; passwordHash: string },
): Promise<void> {
  const inserted = await db.query(
    `INSERT INTO users (email, name, password_hash, roles) VALUES ($1, 'Administrator', $2, ARRAY['user', 'admin'])
     ON CONFLICT (email) DO NOTHING`,
    [admin.email, admin.passwordHash],
  );
  if (inserted.rowCount === 1) return;
  const { rows } = await db.query<{ roles: Role[] }>('SELECT roles FROM users WHERE email = $1', [
    admin.email,
  ]);
  if (!rows[0]?.roles.includes('admin')) throw new AdminEmailTaken(admin.email);
}
