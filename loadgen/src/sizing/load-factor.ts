import type { Figure } from './figure.ts';

/** A unit of work's CPU on a process paced at `perSecond`, as a multiple of its CPU on a saturated process. */
export interface LoadPoint {
  perSecond: number;
  factor: number;
}

/**
 * The factor at a process's rate, from bench:saga's paced points (rising rates), read along straight lines between
 * them. Below the slowest point, that point's factor: a process slower still pays at least as much per unit, so this
 * underprices rather than guesses. Past the fastest, the factor falls along a line to 1 at the
 * saturated rate, and stays 1 beyond it.
 */
export function loadFactorAt(
  points: readonly LoadPoint[],
  saturatedPerSecond: number,
  perSecond: number,
): number {
  const line = [
    ...points.filter((p) => p.perSecond < saturatedPerSecond),
    { perSecond: saturatedPerSecond, factor: 1 },
  ];
  if (perSecond <= line[0]!.perSecond) return line[0]!.factor;
  for (let i = 1; i < line.length; i++) {
    const a = line[i - 1]!;
    const b = line[i]!;
    if (perSecond <= b.perSecond)
      return a.factor + ((b.factor - a.factor) * (perSecond - a.perSecond)) / (b.perSecond - a.perSecond);
  }
  return 1;
}

/** The bench's points as the sizing keeps them: with the report field they came from. */
export interface LoadFactor {
  points: readonly LoadPoint[];
  /** The saturated rate the factors are relative to. */
  saturatedPerSecond: Figure;
  from: string;
}
