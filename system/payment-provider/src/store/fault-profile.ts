import type { FaultProfile } from '@reservex/contracts';
import type { Queryable } from '@reservex/kit';

export async function loadFaultProfile(db: Queryable): Promise<FaultProfile | undefined> {
  const { rows } = await db.query('SELECT profile FROM fault_profile WHERE id = 1');
  return rows[0]?.profile as FaultProfile | undefined;
}

export async function saveFaultProfile(db: Queryable, profile: FaultProfile): Promise<void> {
  await db.query(
    `INSERT INTO fault_profile (id, profile) VALUES (1, $1)
     ON CONFLICT (id) DO UPDATE SET profile = EXCLUDED.profile, changed_at = now()`,
    [JSON.stringify(profile)],
  );
}

/** Writes the starting profile unless one is stored: a restarted provider keeps the faults it was given. */
export async function seedFaultProfile(db: Queryable, profile: FaultProfile): Promise<void> {
  await db.query('INSERT INTO fault_profile (id, profile) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [
    JSON.stringify(profile),
  ]);
}
