/**
 * What a misbehaving fan tries. Each one has the answer it must get; the run fails on any other answer, and the
 * checker confirms that nothing a refusal answered was left behind.
 */
export const MISBEHAVIOURS = [
  'no-token',
  'forged-token',
  'foreign-token',
  'spent-token',
  'over-limit',
  'double-submit',
  'key-reuse',
  'cancel-pending',
  'cancel-confirmed',
  'replay',
] as const;
export type Misbehaviour = (typeof MISBEHAVIOURS)[number];

/** A refused attempt, for the checker: no reservation may exist under its key, or only the one it already had. */
export interface Refusal {
  userId: string;
  idempotencyKey: string;
  kind: Misbehaviour;
  /** For a reused key: the seats of the booking the key already made, which the refusal must leave as they were. */
  keptSeats?: string[];
}
