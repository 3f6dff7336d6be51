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

/**
 * When an admission was given, from its id (`tick.place.admittedAtMs`, as the TICK script writes it), so a fan's
 * look needs no read of the log for it. Undefined for an id of the older form (`tick.place`), issued before.
 */
export function admittedAtOfId(tokenId: string): number | undefined {
  const match = /^\d+\.\d+\.(\d+)$/.exec(tokenId);
  return match === null ? undefined : Number(match[1]);
}
