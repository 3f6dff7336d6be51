/**
 * The admission log's record format, `user|ticket|admittedAtMs`, written by the TICK script and read back here.
 * (The invariant checker parses it on its own, on purpose: it must not share code with what it checks.)
 */
export interface AdmissionRecord {
  userId: string;
  ticket: number;
  admittedAt: number;
}

export function parseAdmissionRecord(record: string): AdmissionRecord | undefined {
  const match = /^(.*)\|(\d+)\|(\d+)$/.exec(record);
  if (match === null) return undefined;
  return { userId: match[1]!, ticket: Number(match[2]), admittedAt: Number(match[3]) };
}
